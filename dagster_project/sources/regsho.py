"""FINRA Reg SHO daily short-sale volume files: fetch and parse.

Files live at ``cdn.finra.org/equity/regsho/daily/{FACILITY}shvol{YYYYMMDD}.txt``: pipe-delimited,
CRLF, header ``Date|Symbol|ShortVolume|ShortExemptVolume|TotalVolume|Market`` and a trailer line
holding the record count (``0`` on empty days). Volumes are kept exact as decimal128 because newer
files carry fractional shares. ``ShortVolume`` already *includes* ``ShortExemptVolume``; the two are
never added. CNMS is the consolidated file and equals the sum of FNSQ+FNQC+FNYX+FNRA per symbol
(verified on the real 2020-01-02 files); FORF covers OTC equities and is not part of CNMS.

The small text helpers at the top are shared with the sibling short-interest and SEC FTD parsers so
every parser reports bad input the same way: file, line, problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import PurePosixPath

import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.errors import ParseError, ReconciliationError
from dagster_project.sources.transport import Fetcher

# --------------------------------------------------------------------------------------------
# Shared helpers (also used by short_interest.py and sec_ftd.py)
# --------------------------------------------------------------------------------------------

_UNSIGNED_RE = re.compile(r"^\d+(?:\.\d+)?$")
_SIGNED_RE = re.compile(r"^-?\d+(?:\.\d+)?$")


def decode_utf8(data: bytes, source: str) -> str:
    """Decode a whole file as UTF-8; a bad byte names the line it sits on. A BOM is dropped."""
    if not data or not data.strip():
        raise ParseError(source, "empty file (no header)", 1 if data else None)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ParseError(source, f"not UTF-8: byte 0x{data[exc.start]:02x} at offset {exc.start}", line) from None
    return text.removeprefix("\ufeff")


def numbered_lines(text: str) -> list[tuple[int, str]]:
    """(1-based line number, line without its CR/LF), trailing empty lines dropped."""
    lines = text.split("\n")
    out = [(i + 1, line.removesuffix("\r")) for i, line in enumerate(lines)]
    while out and not out[-1][1].strip():
        out.pop()
    return out


def header_index(fields: list[str], expected: tuple[str, ...], source: str, line: int) -> dict[str, int]:
    """Map expected column names to positions: any order is fine, missing or extra names are not."""
    names = [f.strip() for f in fields]
    seen: dict[str, int] = {}
    for pos, name in enumerate(names):
        if name in seen:
            raise ParseError(source, f"duplicate column {name!r} in header", line)
        seen[name] = pos
    extra = [n for n in names if n not in expected]
    if extra:
        raise ParseError(source, f"unexpected column(s) {extra} in header; expected {list(expected)}", line)
    missing = [n for n in expected if n not in seen]
    if missing:
        raise ParseError(source, f"missing column(s) {missing} in header; expected {list(expected)}", line)
    return seen


def parse_decimal(text: str, *, column: str, scale: int, source: str, line: int, signed: bool = False) -> Decimal:
    """Exact decimal with at most ``scale`` fractional digits; negatives only when ``signed``."""
    value = text.strip()
    if not (_SIGNED_RE if signed else _UNSIGNED_RE).match(value):
        if not signed and _SIGNED_RE.match(value):
            raise ParseError(source, f"negative value {value!r} in column {column}", line)
        raise ParseError(source, f"non-numeric value {value!r} in column {column}", line)
    try:
        number = Decimal(value)
    except InvalidOperation:  # pragma: no cover - the regex already guarantees a valid literal
        raise ParseError(source, f"non-numeric value {value!r} in column {column}", line) from None
    if -number.as_tuple().exponent > scale:
        raise ParseError(source, f"value {value!r} in column {column} has more than {scale} decimal places", line)
    return number


def parse_int(text: str, *, column: str, source: str, line: int, signed: bool = False) -> int:
    """Exact integer; an integral decimal such as ``1200.0`` is accepted, ``1200.5`` is not."""
    number = parse_decimal(text, column=column, scale=12, source=source, line=line, signed=signed)
    if number != number.to_integral_value():
        raise ParseError(source, f"value {text.strip()!r} in column {column} is not a whole number", line)
    return int(number)


def parse_yyyymmdd(text: str, *, column: str, source: str, line: int, fmt: str = "%Y%m%d") -> date:
    value = text.strip()
    try:
        return datetime.strptime(value, fmt).date()
    except ValueError:
        raise ParseError(source, f"bad date {value!r} in column {column} (expected {fmt})", line) from None


def require_text(text: str, *, column: str, source: str, line: int) -> str:
    value = text.strip()
    if not value:
        raise ParseError(source, f"blank {column}", line)
    return value


# --------------------------------------------------------------------------------------------
# Reg SHO daily files
# --------------------------------------------------------------------------------------------

#: File prefixes. CNMS is the consolidated NMS file; the others are single facilities.
FACILITIES = ("CNMS", "FNSQ", "FNQC", "FNYX", "FNRA", "FORF")
#: Market code each single-facility file carries (FNRA/ADF = D per FINRA's layout doc).
FACILITY_MARKET = {"FNSQ": "Q", "FNQC": "B", "FNYX": "N", "FNRA": "D", "FORF": "O"}
#: Facilities whose per-symbol sums make up CNMS.
CNMS_COMPONENTS = ("FNSQ", "FNQC", "FNYX", "FNRA")

REGSHO_COLUMNS = ("Date", "Symbol", "ShortVolume", "ShortExemptVolume", "TotalVolume", "Market")
_LEGACY_COLUMNS = {"Date", "Symbol", "ShortVolume", "TotalVolume", "Market"}
VOLUME_TYPE = pa.decimal128(38, 6)
VOLUME_SCALE = 6

REGSHO_SCHEMA = pa.schema([
    pa.field("trade_date", pa.date32(), nullable=False),
    pa.field("facility", pa.string(), nullable=False),
    pa.field("symbol", pa.string(), nullable=False),
    pa.field("short_volume", VOLUME_TYPE, nullable=False),
    pa.field("short_exempt_volume", VOLUME_TYPE, nullable=False),
    pa.field("total_volume", VOLUME_TYPE, nullable=False),
    pa.field("market", pa.string(), nullable=False),
])

_FILENAME_RE = re.compile(r"(CNMS|FNSQ|FNQC|FNYX|FNRA|FORF)shvol(\d{8})\.txt$")


@dataclass(frozen=True)
class RegShoFile:
    """One parsed daily file. ``trailer_count`` is None only when parsed with ``require_trailer=False``."""

    table: pa.Table
    facility: str
    trade_date: date
    trailer_count: int | None


def regsho_filename(facility: str, trade_date: date) -> str:
    _check_facility(facility)
    return f"{facility}shvol{trade_date:%Y%m%d}.txt"


def regsho_path(facility: str, trade_date: date) -> str:
    """Path on the FINRA CDN (and inside a ``finra_cdn`` replay folder)."""
    return f"equity/regsho/daily/{regsho_filename(facility, trade_date)}"


def parse_regsho_filename(name: str) -> tuple[str, date] | None:
    """(facility, date) from a file name or URL ending in ``{FACILITY}shvol{YYYYMMDD}.txt``."""
    match = _FILENAME_RE.search(PurePosixPath(str(name).split("?")[0]).name)
    if not match:
        return None
    try:
        return match.group(1), datetime.strptime(match.group(2), "%Y%m%d").date()
    except ValueError:
        return None


def fetch_regsho_file(fetcher: Fetcher, facility: str, trade_date: date) -> bytes:
    """Bytes of one daily file; a weekend, holiday or not-yet-posted day raises NotPublishedError (403/404)."""
    return fetcher.get(regsho_path(facility, trade_date), what=f"Reg SHO {facility} {trade_date}",
                       not_published=(403, 404))


def parse_regsho_daily(data: bytes, source: str, *, facility: str | None = None,
                       trade_date: date | None = None, require_trailer: bool = True) -> RegShoFile:
    """Parse one daily file. Facility and date default to those in ``source``'s file name.

    Rows whose Date differs from the file's date, duplicate symbols, negative or non-numeric volumes,
    ShortExemptVolume > ShortVolume or ShortVolume > TotalVolume raise ParseError; a trailer count that
    disagrees with the rows raises ReconciliationError.
    """
    from_name = parse_regsho_filename(source)
    facility = facility or (from_name[0] if from_name else None)
    trade_date = trade_date or (from_name[1] if from_name else None)
    if facility is None:
        raise ParseError(source, "cannot tell the facility: pass facility= or use a {FACILITY}shvolYYYYMMDD.txt name")
    _check_facility(facility)

    text = decode_utf8(data, source)
    lines = numbered_lines(text)
    header_no, header = lines[0]
    fields = header.split("|")
    if {f.strip() for f in fields} == _LEGACY_COLUMNS:
        raise ParseError(source, "pre-2011 5-column layout (no ShortExemptVolume) is not supported", header_no)
    cols = header_index(fields, REGSHO_COLUMNS, source, header_no)

    body = lines[1:]
    trailer_count: int | None = None
    trailer_line: int | None = None
    if body and "|" not in body[-1][1]:
        trailer_line, trailer_text = body[-1]
        if not trailer_text.strip().isdigit():
            raise ParseError(source, f"trailer line {trailer_text.strip()!r} is not a record count", trailer_line)
        trailer_count = int(trailer_text.strip())
        body = body[:-1]
    elif require_trailer:
        where = body[-1][0] + 1 if body else header_no + 1
        raise ParseError(source, "no trailer line with the record count (pass require_trailer=False to accept)", where)

    dates, symbols, short, exempt, total, markets = [], [], [], [], [], []
    first_seen: dict[str, int] = {}
    allowed_market = FACILITY_MARKET.get(facility)
    for no, line in body:
        if not line.strip():
            raise ParseError(source, "blank line inside the data", no)
        parts = line.split("|")
        if len(parts) != len(REGSHO_COLUMNS):
            raise ParseError(source, f"expected {len(REGSHO_COLUMNS)} fields, got {len(parts)}", no)
        row_date = parse_yyyymmdd(parts[cols["Date"]], column="Date", source=source, line=no)
        if trade_date is None:
            trade_date = row_date
        if row_date != trade_date:
            raise ParseError(source, f"row dated {row_date} in the file for {trade_date} (wrong file for this date?)", no)
        symbol = require_text(parts[cols["Symbol"]], column="Symbol", source=source, line=no)
        if symbol in first_seen:
            raise ParseError(source, f"duplicate row for symbol {symbol!r} (first at line {first_seen[symbol]})", no)
        first_seen[symbol] = no
        sv = parse_decimal(parts[cols["ShortVolume"]], column="ShortVolume", scale=VOLUME_SCALE, source=source, line=no)
        sev = parse_decimal(parts[cols["ShortExemptVolume"]], column="ShortExemptVolume", scale=VOLUME_SCALE,
                            source=source, line=no)
        tv = parse_decimal(parts[cols["TotalVolume"]], column="TotalVolume", scale=VOLUME_SCALE, source=source, line=no)
        if sev > sv:
            raise ParseError(source, f"ShortExemptVolume {sev} exceeds ShortVolume {sv} (ShortVolume includes exempt)", no)
        if sv > tv:
            raise ParseError(source, f"ShortVolume {sv} exceeds TotalVolume {tv}", no)
        market = require_text(parts[cols["Market"]], column="Market", source=source, line=no)
        _check_market(market, facility, allowed_market, source, no)
        dates.append(row_date)
        symbols.append(symbol)
        short.append(sv)
        exempt.append(sev)
        total.append(tv)
        markets.append(market)

    if trailer_count is not None and trailer_count != len(symbols):
        raise ReconciliationError(source, f"trailer says {trailer_count} records, file has {len(symbols)}", trailer_line)
    if trade_date is None:
        raise ParseError(source, "cannot tell the trade date of an empty file: pass trade_date= or use the FINRA file name")
    table = pa.Table.from_arrays([
        pa.array(dates, pa.date32()),
        pa.array([facility] * len(symbols), pa.string()),
        pa.array(symbols, pa.string()),
        pa.array(short, VOLUME_TYPE),
        pa.array(exempt, VOLUME_TYPE),
        pa.array(total, VOLUME_TYPE),
        pa.array(markets, pa.string()),
    ], schema=REGSHO_SCHEMA)
    return RegShoFile(table=table, facility=facility, trade_date=trade_date, trailer_count=trailer_count)


def check_cnms_consistency(cnms: pa.Table, facilities: dict[str, pa.Table], source: str) -> None:
    """Raise ReconciliationError unless CNMS equals the per-symbol sum of FNSQ+FNQC+FNYX+FNRA.

    Use it when all component files of one day are landed; it catches a stale or half-updated file.
    """
    missing = [f for f in CNMS_COMPONENTS if f not in facilities]
    if missing:
        raise ReconciliationError(source, f"cannot reconcile CNMS without {missing}")
    sums: dict[str, list[Decimal]] = {}
    for name in CNMS_COMPONENTS:
        for sym, sv, sev, tv in _rows(facilities[name]):
            acc = sums.setdefault(sym, [Decimal(0)] * 3)
            acc[0] += sv
            acc[1] += sev
            acc[2] += tv
    cnms_rows = {sym: (sv, sev, tv) for sym, sv, sev, tv in _rows(cnms)}
    only_cnms = sorted(set(cnms_rows) - set(sums))
    only_fac = sorted(set(sums) - set(cnms_rows))
    if only_cnms or only_fac:
        raise ReconciliationError(source, f"CNMS and facility files list different symbols: only in CNMS {only_cnms[:5]}, "
                                          f"only in facilities {only_fac[:5]}")
    for sym, values in cnms_rows.items():
        if tuple(values) != tuple(sums[sym]):
            raise ReconciliationError(source, f"CNMS {sym} volumes {values} != facility sums {tuple(sums[sym])}")


def _rows(table: pa.Table) -> Iterator[tuple[str, Decimal, Decimal, Decimal]]:
    cols = [table.column(c).to_pylist() for c in ("symbol", "short_volume", "short_exempt_volume", "total_volume")]
    return zip(*cols)


def total_volumes(table: pa.Table) -> tuple[Decimal, Decimal, Decimal]:
    """Exact (ShortVolume, ShortExemptVolume, TotalVolume) sums of a parsed file."""
    out = []
    for col in ("short_volume", "short_exempt_volume", "total_volume"):
        value = pc.sum(table.column(col)).as_py()
        out.append(Decimal(0) if value is None else Decimal(value))
    return out[0], out[1], out[2]


def _check_facility(facility: str) -> None:
    if facility not in FACILITIES:
        raise ValueError(f"unknown Reg SHO facility {facility!r}; known: {', '.join(FACILITIES)}")


def _check_market(market: str, facility: str, allowed: str | None, source: str, line: int) -> None:
    if allowed is not None:
        if market != allowed:
            raise ParseError(source, f"Market {market!r} in a {facility} file (expected {allowed!r})", line)
        return
    codes = market.split(",")
    bad = [c for c in codes if c not in ("B", "Q", "N", "D")]
    if bad or len(set(codes)) != len(codes):
        raise ParseError(source, f"Market {market!r} is not a list of CNMS facility codes B,Q,N,D", line)
