"""FINRA weekly OTC transparency: parse Query API pages and legacy download files into one raw table.

Both formats become the same typed table with FINRA's own field names (the raw layer renames
nothing). Share quantities are exact decimals (FINRA publishes fractional shares), trade counts are
integers. Every summary grain is kept as its own rows (``summaryTypeCode``); they are never summed.

Lake partitions are (week, tier, kind): ``kind`` is ``ATS`` or ``OTC`` (non-ATS), taken from the
``summaryTypeCode`` prefix. A legacy file holds one kind's symbol × venue rows, so an imported file
replaces that kind's partition as a whole new version and never mixes with the other kind.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from dagster_project.errors import ParseError
from dagster_project.publication_calendar import TIERS
from dagster_project.sources.finra_api_pages import parse_pages, to_date

DATASET = "finra_weekly"
KINDS = ("ATS", "OTC")
SUMMARY_TYPES = tuple(f"{kind}_W_{grain}" for kind in KINDS for grain in ("SMBL", "SMBL_FIRM", "FIRM", "VOL_STATS"))
#: Weeks older than this are served by ``weeklySummaryHistoric`` (FINRA keeps 12 rolling months in weeklySummary).
LIVE_WINDOW_DAYS = 365

SHARES = pa.decimal128(38, 6)
MONEY = pa.decimal128(38, 6)
DATE_FIELDS = ("weekStartDate", "summaryStartDate", "lastUpdateDate", "initialPublishedDate", "lastReportedDate",
               "historicalWeek")
#: Every field FINRA documents for weeklySummary/weeklySummaryHistoric, with its exact type.
API_FIELDS: dict[str, pa.DataType] = {
    "weekStartDate": pa.string(),
    "tierIdentifier": pa.string(),
    "tierDescription": pa.string(),
    "summaryTypeCode": pa.string(),
    "issueSymbolIdentifier": pa.string(),
    "issueName": pa.string(),
    "MPID": pa.string(),
    "firmCRDNumber": pa.int64(),
    "marketParticipantName": pa.string(),
    "productTypeCode": pa.string(),
    "summaryStartDate": pa.string(),
    "totalWeeklyShareQuantity": SHARES,
    "totalWeeklyTradeCount": pa.int64(),
    "totalNotionalSum": MONEY,
    "lastUpdateDate": pa.string(),
    "initialPublishedDate": pa.string(),
    "lastReportedDate": pa.string(),
    "historicalWeek": pa.string(),
    "historicalMonth": pa.string(),
}
RAW_SCHEMA = pa.schema([(name, pa.date32() if name in DATE_FIELDS else typ) for name, typ in API_FIELDS.items()])
NATURAL_KEY = ("summaryTypeCode", "issueSymbolIdentifier", "issueName", "productTypeCode", "MPID", "firmCRDNumber",
               "marketParticipantName")

LEGACY_HEADER = ("tierDescription", "issueSymbolIdentifier", "issueName", "marketParticipantName", "MPID",
                 "totalWeeklyShareQuantity", "totalWeeklyTradeCount", "lastUpdateDate")
TIER_BY_DESCRIPTION = {"NMS Tier 1": "T1", "NMS Tier 2": "T2", "OTC": "OTCE", "OTCE": "OTCE", "OTC Equity": "OTCE"}


def weekly_dataset_for(week: date, today: date) -> str:
    """Which Query API dataset serves a week: the live one for the trailing 12 months, else the historic one."""
    return "weeklySummary" if week >= today - timedelta(days=LIVE_WINDOW_DAYS) else "weeklySummaryHistoric"


def api_filters(week: date, tier: str) -> dict[str, str]:
    return {"weekStartDate": week.isoformat(), "tierIdentifier": tier}


# -- Query API pages --------------------------------------------------------------------------------
def parse_api_pages(pages: dict[str, bytes] | list[bytes], source: str) -> pa.Table:
    """Parse weeklySummary JSON pages (each a JSON array of records) into the raw table.

    ``pages`` maps a page name (used in error messages) to its bytes. Unknown fields are schema
    drift and fail the partition; numbers are converted exactly (no float round trip).
    """
    return _finish(parse_pages(pages, API_FIELDS, source), source)


# -- legacy weekly download files --------------------------------------------------------------------
def parse_legacy_file(data: bytes, source: str, week: date, kind: str) -> pa.Table:
    """Parse a pipe-delimited weekly download file (per symbol × venue) into raw rows of one kind."""
    if kind not in KINDS:
        raise ParseError(source, f"unknown kind {kind!r}; expected ats or otc")
    if week.weekday() != 0:
        raise ParseError(source, f"--week-start {week.isoformat()} is not a Monday")
    if not data.strip():
        raise ParseError(source, "empty file")
    try:
        header_line = data.split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise ParseError(source, f"header is not UTF-8: {exc}", line=1) from exc
    header = tuple(header_line.split("|"))
    if header != LEGACY_HEADER:
        missing = [c for c in LEGACY_HEADER if c not in header]
        extra = [c for c in header if c not in LEGACY_HEADER]
        detail = "; ".join(filter(None, [
            f"missing column(s) {', '.join(missing)}" if missing else "",
            f"unexpected column(s) {', '.join(extra)}" if extra else "",
            "columns out of order" if not missing and not extra else ""]))
        raise ParseError(source, f"header does not match the FINRA weekly download layout: {detail}", line=1)
    _check_utf8(data, source)
    types = {"totalWeeklyShareQuantity": SHARES, "totalWeeklyTradeCount": pa.int64()}
    types.update({c: pa.string() for c in LEGACY_HEADER if c not in types})
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter="|", quote_char=False),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                                 quoted_strings_can_be_null=False, null_values=[]),
        )
    except pa.ArrowInvalid as exc:
        raise ParseError(source, _arrow_csv_problem(exc), line=_arrow_csv_line(exc)) from exc
    n = table.num_rows
    descriptions = table["tierDescription"].to_pylist()
    unknown_tiers = sorted(set(descriptions) - set(TIER_BY_DESCRIPTION))
    if unknown_tiers:
        line = descriptions.index(unknown_tiers[0]) + 2
        raise ParseError(source, f"unknown tierDescription {unknown_tiers[0]!r}", line=line)
    tiers = pa.array([TIER_BY_DESCRIPTION[d] for d in descriptions], pa.string())
    blank_to_null = lambda col: pc.if_else(pc.equal(table[col], ""), pa.scalar(None, pa.string()), table[col])  # noqa: E731
    columns = {
        "weekStartDate": pa.array([week] * n, pa.date32()),
        "tierIdentifier": tiers,
        "tierDescription": table["tierDescription"],
        "summaryTypeCode": pa.array([f"{kind}_W_SMBL_FIRM"] * n, pa.string()),
        "issueSymbolIdentifier": blank_to_null("issueSymbolIdentifier"),
        "issueName": blank_to_null("issueName"),
        "MPID": blank_to_null("MPID"),
        "marketParticipantName": table["marketParticipantName"],
        "totalWeeklyShareQuantity": table["totalWeeklyShareQuantity"],
        "totalWeeklyTradeCount": table["totalWeeklyTradeCount"],
        "lastUpdateDate": to_date(table["lastUpdateDate"], source, "lastUpdateDate", line_offset=2),
    }
    out = pa.table({name: columns.get(name, pa.nulls(n, RAW_SCHEMA.field(name).type)) for name in RAW_SCHEMA.names},
                   schema=RAW_SCHEMA)
    stale = pc.less(out["lastUpdateDate"], pa.scalar(week, pa.date32()))
    if pc.any(stale).as_py():
        line = pc.index(stale, True).as_py() + 2
        raise ParseError(source, f"lastUpdateDate precedes --week-start {week.isoformat()}: file is for another week", line=line)
    return _validate(out, source, line_offset=2)


def _check_utf8(data: bytes, source: str) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError(source, f"not UTF-8 text (byte {data[exc.start]:#04x} at offset {exc.start})", line=line) from exc


_ROW_RE = re.compile(r"Row #(\d+)")


def _arrow_csv_line(exc: Exception) -> int | None:
    match = _ROW_RE.search(str(exc))
    return int(match.group(1)) if match else None  # Arrow counts the header as row 1: its row number is the file line


def _arrow_csv_problem(exc: Exception) -> str:
    text = str(exc).split("\n")[0]
    text = re.sub(r"^(In CSV column #\d+: )?(Row #\d+: )?", "", text)
    return text


# -- shared finishing and validation -------------------------------------------------------------------
def _finish(table: pa.Table, source: str) -> pa.Table:
    columns = {}
    for field in RAW_SCHEMA:
        col = table[field.name]
        columns[field.name] = to_date(col, source, field.name, line_offset=1) if field.name in DATE_FIELDS else col
    return _validate(pa.table(columns, schema=RAW_SCHEMA), source, line_offset=1)


def _validate(table: pa.Table, source: str, line_offset: int) -> pa.Table:
    """Row-level rules every raw weekly table obeys; the first violation names its record (API) or line (file)."""

    def where(index: int) -> dict:
        if line_offset == 2:
            return {"line": index + line_offset}
        return {"suffix": f" (record {index + line_offset})"}

    def fail(mask, problem):
        if mask is not None and pc.any(mask).as_py():
            loc = where(pc.index(mask, True).as_py())
            raise ParseError(source, problem + loc.get("suffix", ""), line=loc.get("line"))

    for name in ("weekStartDate", "tierIdentifier", "summaryTypeCode", "totalWeeklyShareQuantity", "totalWeeklyTradeCount"):
        fail(pc.is_null(table[name]), f"missing {name}")
    fail(pc.invert(pc.is_in(table["summaryTypeCode"], pa.array(SUMMARY_TYPES))), "unknown summaryTypeCode")
    fail(pc.invert(pc.is_in(table["tierIdentifier"], pa.array(TIERS + ("NMS", "NA")))), "unknown tierIdentifier")
    fail(pc.less(table["totalWeeklyShareQuantity"], pa.scalar(0, SHARES)), "negative totalWeeklyShareQuantity")
    fail(pc.less(table["totalWeeklyTradeCount"], 0), "negative totalWeeklyTradeCount")
    if table.num_rows:
        keys = ["weekStartDate", "tierIdentifier", *NATURAL_KEY]
        counts = table.select(keys).group_by(keys, use_threads=False).aggregate([([], "count_all")])
        if counts.num_rows < table.num_rows:
            import duckdb

            indexed = table.select(keys).append_column("_row", pa.array(range(table.num_rows), pa.int64()))
            partition = ", ".join(f'"{k}"' for k in keys)
            with duckdb.connect() as con:
                con.register("t", indexed)
                second = con.execute(f"select min(_row) from (select _row, row_number() over "
                                     f"(partition by {partition} order by _row) as n from t) where n > 1").fetchone()[0]
            fail(pc.equal(indexed["_row"], second), "duplicate row for the same week, tier, grain, symbol and venue")
    return table


def split_by_kind(table: pa.Table) -> dict[tuple[date, str, str], pa.Table]:
    """Split raw rows into lake partitions keyed (week, tier, kind)."""
    out = {}
    if table.num_rows == 0:
        return out
    kinds = pc.utf8_slice_codeunits(table["summaryTypeCode"], 0, 3)
    keyed = pa.table({"w": table["weekStartDate"], "t": table["tierIdentifier"], "k": kinds})
    keys = sorted(tuple(row.values()) for row in keyed.group_by(["w", "t", "k"]).aggregate([]).to_pylist())
    for week, tier, kind in keys:
        mask = pc.and_(pc.and_(pc.equal(table["weekStartDate"], pa.scalar(week, pa.date32())),
                               pc.equal(table["tierIdentifier"], tier)), pc.equal(kinds, kind))
        out[(week, tier, kind)] = table.filter(mask)
    return out


def lake_partition(week: date, tier: str, kind: str) -> dict[str, str]:
    return {"week": week.isoformat(), "tier": tier, "kind": kind}
