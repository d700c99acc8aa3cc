"""Land short and settlement data: FINRA Reg SHO daily files, FINRA short interest, SEC fails-to-deliver.

Lake datasets (one version per restatement; the original bytes are the payload):

* ``regsho_daily``  partition ``date=<trade date>/facility=<CNMS|FNSQ|FNQC|FNYX|FNRA|FORF>``; an empty day
  (header + trailer ``0``) lands as an empty version;
* ``short_interest`` partition ``settlement=<date>``; the CDN file, the Query API and the finra.org
  exports are alternative sources of the same partition, and the version's facts say which;
* ``sec_ftd``       partition ``period=<YYYYMM><a|b>``, taken from the rows' settlement dates (the real
  ``cnsfails202104b.zip`` holds the 202103b file: contents are trusted, the name is recorded).

Every version records when the data was first observable (``fetched_at`` for fetches, the zip stamp
for SEC files) and whether that precedes the publication calendar's due date (``published_before_due``),
so an early or mis-dated file is flagged instead of silently accepted. A file that does not parse is
quarantined and the error names the file and line. Pure code: no Dagster.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NoReturn
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.errors import DealerflowError, NotPublishedError, ParseError
from dagster_project.lake import Lake, LandResult
from dagster_project.publication_calendar import (
    ftd_expected_publication,
    ftd_half_month,
    ftd_period_bounds,
    ftd_period_key,
    parse_ftd_period_key,
    regsho_due_at,
    short_interest_publication_date,
)
from dagster_project.sources import regsho as rs
from dagster_project.sources import sec_ftd as ftd
from dagster_project.sources import short_interest as si
from dagster_project.sources.transport import Fetcher

REGSHO_DATASET = "regsho_daily"
SHORT_INTEREST_DATASET = "short_interest"
FTD_DATASET = "sec_ftd"
DATASETS = (REGSHO_DATASET, SHORT_INTEREST_DATASET, FTD_DATASET)


@dataclass(frozen=True)
class LandedVersion:
    """What one landing did: the partition, the version now current, and its facts."""

    dataset: str
    partition: dict[str, str]
    rows: int
    version_id: str
    is_new: bool
    facts: dict

    def describe(self) -> str:
        where = " ".join(f"{k}={v}" for k, v in self.partition.items())
        return f"{self.dataset} {where}: {self.rows} rows ({'new version' if self.is_new else 'unchanged'} {self.version_id})"


def _landed(dataset: str, result: LandResult) -> LandedVersion:
    v = result.version
    return LandedVersion(dataset, dict(v.partition), v.rows, v.version_id, result.is_new, v.manifest.get("facts", {}))


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _quarantine_and_raise(lake: Lake, dataset: str, name: str, data: bytes, exc: ParseError) -> NoReturn:
    where = lake.quarantine(dataset, name, data, str(exc))
    raise type(exc)(exc.source, f"{exc.problem} (file quarantined at {where})", exc.line) from exc


def _import_each(files: Iterable[Path], land_one: Callable[[Path, bytes], list[LandedVersion]]) -> list[LandedVersion]:
    """Land every good file; quarantine every bad one; then raise the first problem (naming the others)."""
    landed, errors = [], []
    for file in files:
        data = Path(file).read_bytes()
        try:
            landed.extend(land_one(Path(file), data))
        except ParseError as exc:
            errors.append(exc)
    if errors:
        first = errors[0]
        others = f" ({len(errors) - 1} more file(s) rejected: {', '.join(e.source for e in errors[1:])})" if errors[1:] else ""
        landed_note = f"; {len(landed)} other partition(s) landed" if landed else ""
        raise type(first)(first.source, f"{first.problem}{others}{landed_note}", first.line)
    return landed


# ============================================================================ Reg SHO daily

def regsho_partition(trade_date: date, facility: str) -> dict[str, str]:
    return {"date": trade_date.isoformat(), "facility": facility}


def land_regsho_bytes(lake: Lake, data: bytes, source: str, name: str, origin: str, *,
                      facility: str | None = None, trade_date: date | None = None, require_trailer: bool = True,
                      fetched_at: datetime | None = None) -> LandedVersion:
    """Parse one daily file and land it; a bad file is quarantined and its ParseError re-raised."""
    try:
        parsed = rs.parse_regsho_daily(data, source, facility=facility, trade_date=trade_date,
                                       require_trailer=require_trailer)
    except ParseError as exc:
        _quarantine_and_raise(lake, REGSHO_DATASET, name, data, exc)
    short, exempt, total = rs.total_volumes(parsed.table)
    due_at = regsho_due_at(parsed.trade_date)
    facts = {
        "origin": origin, "source": source, "file": name, "facility": parsed.facility,
        "trade_date": parsed.trade_date.isoformat(), "trailer_count": parsed.trailer_count,
        "has_trailer": parsed.trailer_count is not None, "short_volume": str(short),
        "short_exempt_volume": str(exempt), "total_volume": str(total), "due_at": due_at.isoformat(),
        "fetched_at": fetched_at.isoformat() if fetched_at else None,
        "published_before_due": (fetched_at < due_at) if fetched_at else None,
    }
    result = lake.land(REGSHO_DATASET, regsho_partition(parsed.trade_date, parsed.facility), parsed.table,
                       {name: data}, facts)
    return _landed(REGSHO_DATASET, result)


def import_regsho_files(files: Iterable[Path], lake: Lake, *, require_trailer: bool = True) -> list[LandedVersion]:
    """Land FINRA ``{FACILITY}shvol{YYYYMMDD}.txt`` files (the name tells facility and date)."""
    def land_one(file: Path, data: bytes) -> list[LandedVersion]:
        if rs.parse_regsho_filename(file.name) is None:
            _quarantine_and_raise(lake, REGSHO_DATASET, file.name, data, ParseError(
                str(file), "file name must be {FACILITY}shvolYYYYMMDD.txt (FINRA's name tells the facility and date)"))
        return [land_regsho_bytes(lake, data, str(file), file.name, f"import {file.name}",
                                  require_trailer=require_trailer)]

    return _import_each(files, land_one)


@dataclass(frozen=True)
class RegShoDay:
    trade_date: date
    landed: list[LandedVersion]
    missing: list[str]  # facilities the source does not (yet) serve for that day


def fetch_and_land_regsho_day(fetcher: Fetcher, lake: Lake, trade_date: date, origin: str,
                              now: Callable[[], datetime] = _utc_now) -> RegShoDay:
    """Fetch all six facility files of one trade date and land each; NotPublishedError when none is there.

    FINRA posts the six files together, so a day with some files missing is reported (``missing``) and
    the caller treats it as a failed fetch; the files that did arrive are landed regardless.
    """
    landed, missing = [], []
    for facility in rs.FACILITIES:
        fetched_at = now()
        try:
            data = rs.fetch_regsho_file(fetcher, facility, trade_date)
        except NotPublishedError:
            missing.append(facility)
            continue
        path = rs.regsho_path(facility, trade_date)
        landed.append(land_regsho_bytes(lake, data, fetcher.describe(path), rs.regsho_filename(facility, trade_date),
                                        origin, facility=facility, trade_date=trade_date, fetched_at=fetched_at))
    if not landed:
        raise NotPublishedError(f"Reg SHO {trade_date}: no facility file is published yet")
    return RegShoDay(trade_date, landed, missing)


# ============================================================================ short interest

#: First header field of each short-interest shape -> (source_format, parser).
_SHORT_INTEREST_SHAPES = {
    "finra_cdn_pipe": si.parse_short_interest_file,
    "finra_browser_csv": si.parse_short_interest_browser_csv,
    "finra_api_csv": si.parse_short_interest_standardized_csv,
}


def short_interest_partition(settlement: date) -> dict[str, str]:
    return {"settlement": settlement.isoformat()}


def detect_short_interest_format(data: bytes, source: str) -> str:
    """Which upstream shape a short-interest file is, from its header (JSON pages start with ``[``)."""
    head = data.lstrip(b"\xef\xbb\xbf").lstrip()[:4096]
    if head.startswith(b"["):
        return "finra_api_json"
    first = head.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
    if "|" in first and "symbolCode" in first:
        return "finra_cdn_pipe"
    if "issueSymbolIdentifier" in first and "currentShortShareNumber" in first:
        return "finra_browser_csv"
    if "securitiesInformationProcessorSymbolIdentifier" in first:
        return "finra_api_csv"
    raise ParseError(source, f"not a known FINRA short-interest layout (header {first[:120]!r})", 1)


def parse_short_interest_any(data: bytes, source: str, settlement_date: date | None = None) -> pa.Table:
    fmt = detect_short_interest_format(data, source)
    if fmt == "finra_api_json":
        return si.parse_consolidated_short_interest_json([data], source, settlement_date=settlement_date)
    return _SHORT_INTEREST_SHAPES[fmt](data, source, settlement_date=settlement_date)


def land_short_interest(lake: Lake, settlement: date, table: pa.Table, payloads: dict[str, bytes], *, origin: str,
                        source: str, source_format: str, fetched_at: datetime | None = None,
                        extra_facts: dict | None = None) -> LandedVersion:
    due = short_interest_publication_date(settlement)
    facts = {
        "origin": origin, "source": source, "source_format": source_format, "files": sorted(payloads),
        "settlement_date": settlement.isoformat(), "due_date": due.isoformat(),
        "fetched_at": fetched_at.isoformat() if fetched_at else None,
        "published_before_due": (fetched_at.date() < due) if fetched_at else None,
        "current_short_total": int(pc.sum(table["current_short"]).as_py() or 0), **(extra_facts or {}),
    }
    return _landed(SHORT_INTEREST_DATASET,
                   lake.land(SHORT_INTEREST_DATASET, short_interest_partition(settlement), table, payloads, facts))


def import_short_interest_files(files: Iterable[Path], lake: Lake,
                                settlement_date: date | None = None) -> list[LandedVersion]:
    """Land short-interest files, one version per settlement date holding every file given for it.

    A finra.org export comes in pages (``1_-...csv``, ``2_-...csv``): pass all pages of one export in one
    call, since each call's files form the partition's new version. Files of one settlement date must share
    a format and must not repeat a symbol.
    """
    groups: dict[date, list[tuple[Path, bytes, str, pa.Table]]] = {}
    errors: list[ParseError] = []
    for file in map(Path, files):
        data = file.read_bytes()
        try:
            fmt = detect_short_interest_format(data, str(file))
            table = parse_short_interest_any(data, str(file), settlement_date)
            if table.num_rows == 0:
                raise ParseError(str(file), "no data rows: cannot tell the settlement date", 2)
        except ParseError as exc:
            try:
                _quarantine_and_raise(lake, SHORT_INTEREST_DATASET, file.name, data, exc)
            except ParseError as quarantined:
                errors.append(quarantined)
            continue
        groups.setdefault(table["settlement_date"][0].as_py(), []).append((file, data, fmt, table))
    landed = []
    for settlement, items in sorted(groups.items()):
        formats = sorted({fmt for _, _, fmt, _ in items})
        if len(formats) > 1:
            errors.append(ParseError(", ".join(str(f) for f, *_ in items),
                                     f"files for settlement {settlement} mix formats {formats}; import them separately"))
            continue
        table = pa.concat_tables([t for *_, t in items])
        symbols = table["symbol"].to_pylist()
        if len(set(symbols)) != len(symbols):
            repeated = sorted({s for s in symbols if symbols.count(s) > 1})[:5]
            errors.append(ParseError(", ".join(str(f) for f, *_ in items),
                                     f"symbols {repeated} appear in more than one file for settlement {settlement}"))
            continue
        landed.append(land_short_interest(lake, settlement, table, {f.name: d for f, d, _, _ in items},
                                          origin="import " + ", ".join(f.name for f, *_ in items),
                                          source=", ".join(str(f) for f, *_ in items), source_format=formats[0]))
    if errors:
        first = errors[0]
        others = f" ({len(errors) - 1} more problem(s))" if errors[1:] else ""
        raise ParseError(first.source, f"{first.problem}{others}", first.line)
    return landed


def fetch_and_land_short_interest(lake: Lake, settlement: date, origin: str, *, cdn: Fetcher | None = None,
                                  api=None, now: Callable[[], datetime] = _utc_now) -> LandedVersion:
    """Fetch one settlement date from the CDN file, else from the Query API; NotPublishedError if neither has it."""
    fetched_at = now()
    if cdn is not None:
        try:
            data = si.fetch_short_interest_file(cdn, settlement)
        except NotPublishedError:
            data = None
        if data is not None:
            path = si.short_interest_path(settlement)
            name = Path(path).name
            source = cdn.describe(path)
            try:
                table = si.parse_short_interest_file(data, source, settlement_date=settlement)
            except ParseError as exc:
                _quarantine_and_raise(lake, SHORT_INTEREST_DATASET, name, data, exc)
            return land_short_interest(lake, settlement, table, {name: data}, origin=origin, source=source,
                                       source_format="finra_cdn_pipe", fetched_at=fetched_at)
    if api is not None:
        fetched = api.fetch_partition(si.CONSOLIDATED_SHORT_INTEREST_DATASET,
                                      {"settlementDate": settlement.isoformat()})
        if fetched.record_total:
            source = f"{fetched.what} ({fetched.source})"
            try:
                table = si.parse_consolidated_short_interest_json(fetched.pages, source, settlement_date=settlement)
            except ParseError as exc:
                _quarantine_and_raise(lake, SHORT_INTEREST_DATASET, f"{settlement}.json", b"\n".join(fetched.pages), exc)
            if table.num_rows != fetched.record_total:
                raise DealerflowError(f"{source}: parsed {table.num_rows} rows but Record-Total is {fetched.record_total}")
            return land_short_interest(lake, settlement, table, fetched.payloads(), origin=origin, source=source,
                                       source_format="finra_api_json", fetched_at=fetched_at,
                                       extra_facts={"record_total": fetched.record_total})
    raise NotPublishedError(f"FINRA short interest {settlement}: neither the CDN file nor the Query API has it yet")


# ============================================================================ SEC fails-to-deliver

def ftd_partition(period: str) -> dict[str, str]:
    parse_ftd_period_key(period)
    return {"period": period}


def _period_of(parsed: ftd.FtdFile, source: str, name: str) -> str:
    """The half-month the rows belong to; every row must fall in the same one."""
    first, last = parsed.first_settlement_date, parsed.last_settlement_date
    if first is None:
        named = ftd._LINK_RE.search(name)
        if not named:
            raise ParseError(source, "no data rows and no cnsfailsYYYYMMa|b name to tell the period")
        return f"{named.group(1)}{named.group(2)}{named.group(3).lower()}"
    if ftd_half_month(first) != ftd_half_month(last):
        raise ParseError(source, f"rows span settlement dates {first}..{last}, more than one half-month file")
    return ftd_period_key(*ftd_half_month(first))


def land_ftd_bytes(lake: Lake, data: bytes, source: str, name: str, origin: str, *, require_trailer: bool = True,
                   fetched_at: datetime | None = None, expected_period: str | None = None) -> LandedVersion:
    """Parse a zip (or an unzipped text file) and land it under the half-month its rows belong to."""
    try:
        parsed = (ftd.parse_ftd_zip(data, source, require_trailer=require_trailer) if data[:2] == b"PK"
                  else ftd.parse_ftd_text(data, source, require_trailer=require_trailer))
        period = _period_of(parsed, source, name)
        if expected_period is not None and period != expected_period:
            raise ParseError(source, f"holds settlement dates of {period}, not the requested period {expected_period}")
    except ParseError as exc:
        _quarantine_and_raise(lake, FTD_DATASET, name, data, exc)
    due = ftd_expected_publication(*parse_ftd_period_key(period))
    observed = parsed.member_stamp or (fetched_at.date() if fetched_at else None)
    first, last = ftd_period_bounds(*parse_ftd_period_key(period))
    facts = {
        "origin": origin, "source": source, "file": name, "member": parsed.member, "period": period,
        "period_start": first.isoformat(), "period_end": last.isoformat(),
        "trailer_record_count": parsed.trailer_record_count, "trailer_total_quantity": parsed.trailer_total_quantity,
        "has_trailer": parsed.has_trailer, "total_quantity": parsed.total_quantity, "notes": parsed.notes,
        "member_stamp": parsed.member_stamp.isoformat() if parsed.member_stamp else None,
        "fetched_at": fetched_at.isoformat() if fetched_at else None, "due_date": due.isoformat(),
        "published_on": observed.isoformat() if observed else None,
        "published_before_due": (observed < due) if observed else None,
    }
    result = lake.land(FTD_DATASET, ftd_partition(period), parsed.table, {name: data}, facts)
    return _landed(FTD_DATASET, result)


def import_ftd_files(files: Iterable[Path], lake: Lake, *, require_trailer: bool = True) -> list[LandedVersion]:
    """Land SEC ``cnsfails*.zip`` files (or unzipped ``.txt``); trailer-less files need ``require_trailer=False``."""
    def land_one(file: Path, data: bytes) -> list[LandedVersion]:
        return [land_ftd_bytes(lake, data, str(file), file.name, f"import {file.name}", require_trailer=require_trailer)]

    return _import_each(files, land_one)


def fetch_and_land_ftd(fetcher: Fetcher, lake: Lake, period: str, links: dict[str, ftd.FtdLink], origin: str,
                       now: Callable[[], datetime] = _utc_now) -> LandedVersion:
    """Fetch one half-month zip via its link from the SEC index page; NotPublishedError when it is not linked."""
    link = links.get(period)
    if link is None:
        raise NotPublishedError(f"SEC fails-to-deliver {period}: not linked from the index page yet")
    fetched_at = now()
    data = ftd.fetch_ftd_zip(fetcher, link)
    return land_ftd_bytes(lake, data, link.url, link.name, origin, fetched_at=fetched_at, expected_period=period)


def ftd_links_by_period(fetcher: Fetcher) -> dict[str, ftd.FtdLink]:
    return {link.period: link for link in ftd.list_ftd_files(fetcher)}


# ============================================================================ synthetic sources

def synthetic_universe(seed: int, scale: float) -> tuple[list[str], dict[str, float], list[str]]:
    """NMS symbols (the FINRA weekly Tier 1 synthetic universe) with a typical daily volume, and OTC symbols.

    The weekly universe's base volume is weekly ATS volume; ATS plus non-ATS volume is about 3.2 times that, and a
    day is a fifth of a week, so the daily off-exchange (FINRA facility) volume is base x 3.2 / 5.
    """
    from dagster_project.synthetic.finra_weekly import WeeklyConfig, universe

    config = WeeklyConfig(seed, scale)
    tier1, otc = universe("T1", config), universe("OTCE", config)
    volume = dict(zip(tier1["symbol"], tier1["base_volume"] * 3.2 / 5))
    volume.update(zip(otc["symbol"], otc["base_volume"] * 3.2 / 5))
    return list(tier1["symbol"]), volume, list(otc["symbol"])


def write_synthetic_sources(root: Path, dataset: str, start: date, end: date, *, seed: int, scale: float) -> None:
    """Write one dataset's synthetic upstream files for ``[start, end]`` in the replay layout under ``root``."""
    from dagster_project.synthetic import short_data as synth

    nms, volume, otc = synthetic_universe(seed, scale)
    if dataset == REGSHO_DATASET:
        synth.write_regsho_files(root, nms, start, end, seed=seed, typical_volume=volume, otc_symbols=otc,
                                 fractional=True)
    elif dataset == SHORT_INTEREST_DATASET:
        synth.write_short_interest_files(root, nms + otc, start, end, seed=seed, typical_volume=volume)
    elif dataset == FTD_DATASET:
        synth.write_ftd_files(root, nms, start, end, seed=seed, typical_volume=volume)
    else:
        raise ValueError(f"unknown short-data dataset {dataset!r}; known: {', '.join(DATASETS)}")
