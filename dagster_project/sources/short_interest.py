"""FINRA equity short interest: four upstream shapes, one normalised table.

* CDN file ``cdn.finra.org/equity/otcmarket/biweekly/shrt{YYYYMMDD}.csv`` - pipe-delimited despite
  the name, parsed by header names (column order has differed between files);
* Query API dataset ``otcMarket/consolidatedShortInterest`` - JSON pages; paging lives in the generic
  FINRA API client, this module only turns its pages into rows;
* finra.org data-browser CSV export - comma, quoted, DD-MM-YYYY dates, OTC only, no flags. Its headers
  are misleading: ``percentageChangefromPreviousShort`` holds the share change and
  ``averageShortShareNumber`` the average daily volume (checked: change == current - previous on every
  real row);
* Query API ``equityShortInterestStandardized`` CSV.

``daysToCover`` = 999.99 is FINRA's sentinel for "no volume or at least 999.99 days": it becomes null
with ``days_to_cover_sentinel`` = true. Flags the source does not carry are null, not false.
Every row must satisfy change == current_short - previous_short (ReconciliationError otherwise): it
catches swapped or mislabelled columns.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePosixPath

import pyarrow as pa

from dagster_project.errors import ParseError, ReconciliationError
from dagster_project.sources.regsho import (
    decode_utf8,
    header_index,
    numbered_lines,
    parse_decimal,
    parse_int,
    parse_yyyymmdd,
    require_text,
)
from dagster_project.sources.transport import Fetcher

DAYS_TO_COVER_SENTINEL = Decimal("999.99")
PCT_TYPE = pa.decimal128(18, 2)

SHORT_INTEREST_SCHEMA = pa.schema([
    pa.field("settlement_date", pa.date32(), nullable=False),
    pa.field("symbol", pa.string(), nullable=False),
    pa.field("issue_name", pa.string()),
    pa.field("market_class", pa.string()),
    pa.field("market_description", pa.string()),
    pa.field("exchange_code", pa.string()),
    pa.field("accounting_date", pa.date32()),
    pa.field("current_short", pa.int64(), nullable=False),
    pa.field("previous_short", pa.int64(), nullable=False),
    pa.field("change", pa.int64(), nullable=False),
    pa.field("change_percent", PCT_TYPE),
    pa.field("avg_daily_volume", pa.int64()),
    pa.field("days_to_cover", PCT_TYPE),
    pa.field("days_to_cover_sentinel", pa.bool_(), nullable=False),
    pa.field("revision_flag", pa.bool_()),
    pa.field("stock_split_flag", pa.bool_()),
    pa.field("source_format", pa.string(), nullable=False),
])

#: Columns of the CDN pipe file and field names of the consolidatedShortInterest dataset.
CDN_COLUMNS = (
    "accountingYearMonthNumber", "symbolCode", "issueName", "issuerServicesGroupExchangeCode", "marketClassCode",
    "currentShortPositionQuantity", "previousShortPositionQuantity", "stockSplitFlag", "averageDailyVolumeQuantity",
    "daysToCoverQuantity", "revisionFlag", "changePercent", "changePreviousNumber", "settlementDate",
)
BROWSER_COLUMNS = (
    "issueSymbolIdentifier", "settlementDate", "issueName", "marketCategoryCode", "marketCategoryDescription",
    "currentShortShareNumber", "previousShortShareNumber", "changePercent", "percentageChangefromPreviousShort",
    "averageShortShareNumber", "daysToCoverNumber",
)
STANDARDIZED_COLUMNS = (
    "accountingDate", "securitiesInformationProcessorSymbolIdentifier", "issueName", "issuerServicesGroupExchangeCode",
    "marketClassCode", "currentShortPositionQuantity", "previousShortPositionQuantity", "changePercent",
    "changePreviousNumber", "stockSplitFlag", "averageDailyVolumeQuantity", "daysToCoverQuantity", "revisionFlag",
    "settlementDate",
)
#: JSON fields FINRA may leave out when null.
_OPTIONAL_JSON_FIELDS = {"stockSplitFlag", "revisionFlag"}

#: Query API location and filter for one settlement date (for the generic FINRA API client).
CONSOLIDATED_SHORT_INTEREST_GROUP = "otcMarket"
CONSOLIDATED_SHORT_INTEREST_DATASET = "consolidatedShortInterest"


def consolidated_short_interest_filters(settlement_date: date) -> list[dict]:
    return [{"compareType": "EQUAL", "fieldName": "settlementDate", "fieldValue": settlement_date.isoformat()}]


_FILENAME_RE = re.compile(r"shrt(\d{8})\.csv$")


def short_interest_path(settlement_date: date) -> str:
    """Path on the FINRA CDN (and inside a ``finra_cdn`` replay folder)."""
    return f"equity/otcmarket/biweekly/shrt{settlement_date:%Y%m%d}.csv"


def fetch_short_interest_file(fetcher: Fetcher, settlement_date: date) -> bytes:
    """Bytes of one bi-monthly file; 403/404 (not a settlement date, or not yet published) -> NotPublishedError."""
    return fetcher.get(short_interest_path(settlement_date), what=f"FINRA short interest {settlement_date}",
                       not_published=(403, 404))


# ------------------------------------------------------------------------------- row assembly

class _Rows:
    """Accumulates normalised rows; checks duplicates, settlement date and the change identity."""

    def __init__(self, source: str, source_format: str, expected_date: date | None):
        self.source = source
        self.source_format = source_format
        self.expected_date = expected_date
        self.columns: dict[str, list] = {f.name: [] for f in SHORT_INTEREST_SCHEMA}
        self.seen: dict[tuple[date, str], str] = {}

    def add(self, where: str, line: int | None, *, settlement_date: date, symbol: str, issue_name: str | None,
            market_class: str | None, market_description: str | None, exchange_code: str | None,
            accounting_date: date | None, current_short: int, previous_short: int, change: int,
            change_percent: Decimal | None, avg_daily_volume: int | None, days_to_cover: Decimal | None,
            revision_flag: bool | None, stock_split_flag: bool | None) -> None:
        src = self.source
        if self.expected_date is None:
            self.expected_date = settlement_date
        if settlement_date != self.expected_date:
            raise ParseError(src, f"{where}settlement date {settlement_date} in the data for {self.expected_date}", line)
        key = (settlement_date, symbol)
        if key in self.seen:
            raise ParseError(src, f"{where}duplicate row for {symbol!r} on {settlement_date} (first at {self.seen[key]})",
                             line)
        self.seen[key] = f"line {line}" if line is not None else f"{src} {where.rstrip(': ')}"
        if change != current_short - previous_short:
            raise ReconciliationError(
                src, f"{where}change {change} != current {current_short} - previous {previous_short} for {symbol!r}", line)
        sentinel = days_to_cover == DAYS_TO_COVER_SENTINEL
        values = dict(
            settlement_date=settlement_date, symbol=symbol, issue_name=issue_name, market_class=market_class,
            market_description=market_description, exchange_code=exchange_code, accounting_date=accounting_date,
            current_short=current_short, previous_short=previous_short, change=change, change_percent=change_percent,
            avg_daily_volume=avg_daily_volume, days_to_cover=None if sentinel else days_to_cover,
            days_to_cover_sentinel=sentinel, revision_flag=revision_flag, stock_split_flag=stock_split_flag,
            source_format=self.source_format,
        )
        for name, value in values.items():
            self.columns[name].append(value)

    def table(self) -> pa.Table:
        return pa.Table.from_pydict(self.columns, schema=SHORT_INTEREST_SCHEMA)


def _flag(value: str | None, letter: str, column: str, source: str, line: int | None, where: str = "") -> bool:
    text = (value or "").strip()
    if text == "":
        return False
    if text == letter:
        return True
    raise ParseError(source, f"{where}unexpected {column} {text!r} (expected {letter!r} or blank)", line)


def _optional_text(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def _common_numbers(get, source: str, line: int | None, where: str, names: dict[str, str]) -> dict:
    """Parse the quantities shared by all shapes; ``names`` maps our name -> upstream column."""
    def dec(key, scale, signed=False):
        return parse_decimal(get(names[key]), column=names[key], scale=scale, source=source, line=line, signed=signed)

    def integer(key, signed=False):
        return parse_int(get(names[key]), column=names[key], source=source, line=line, signed=signed)

    try:
        return dict(
            current_short=integer("current_short"),
            previous_short=integer("previous_short"),
            change=integer("change", signed=True),
            change_percent=dec("change_percent", 2, signed=True),
            avg_daily_volume=integer("avg_daily_volume"),
            days_to_cover=dec("days_to_cover", 2),
        )
    except ParseError as exc:
        if not where:
            raise
        raise ParseError(source, f"{where}{exc.problem}", line) from None


# ------------------------------------------------------------------------------- delimited shapes

def _delimited_rows(data: bytes, source: str, delimiter: str, expected: tuple[str, ...], quoted: bool):
    """Yield (line number, {column: value}) after header checks; every row must have the header's width."""
    text = decode_utf8(data, source)
    if quoted:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        records = []
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                raise ParseError(source, f"malformed CSV: {exc}", reader.line_num) from None
            records.append((reader.line_num, fields))
        while records and not any(f.strip() for f in records[-1][1]):
            records.pop()
    else:
        records = [(no, line.split(delimiter)) for no, line in numbered_lines(text)]
    if not records:
        raise ParseError(source, "empty file (no header)", 1)
    header_no, header = records[0]
    cols = header_index(header, expected, source, header_no)
    width = len(header)
    for no, fields in records[1:]:
        if not any(f.strip() for f in fields):
            raise ParseError(source, "blank line inside the data", no)
        if len(fields) != width:
            raise ParseError(source, f"expected {width} fields, got {len(fields)}", no)
        yield no, {name: fields[pos] for name, pos in cols.items()}


#: Quantity columns of FINRA's own layouts (the CDN pipe file and the Query API share these names).
API_NUMBER_COLUMNS = dict(current_short="currentShortPositionQuantity", previous_short="previousShortPositionQuantity",
                          change="changePreviousNumber", change_percent="changePercent",
                          avg_daily_volume="averageDailyVolumeQuantity", days_to_cover="daysToCoverQuantity")


def parse_short_interest_file(data: bytes, source: str, *, settlement_date: date | None = None) -> pa.Table:
    """Parse the CDN ``shrt{YYYYMMDD}.csv`` pipe file; the date defaults to the one in ``source``'s name."""
    if settlement_date is None:
        match = _FILENAME_RE.search(PurePosixPath(str(source).split("?")[0]).name)
        if match:
            settlement_date = datetime.strptime(match.group(1), "%Y%m%d").date()
    rows = _Rows(source, "finra_cdn_pipe", settlement_date)
    for no, rec in _delimited_rows(data, source, "|", CDN_COLUMNS, quoted=False):
        rows.add("", no, **_cdn_like(rec, source, no, "", symbol_column="symbolCode",
                                     accounting_column="accountingYearMonthNumber", names=API_NUMBER_COLUMNS))
    return rows.table()


def parse_short_interest_standardized_csv(data: bytes, source: str, *, settlement_date: date | None = None) -> pa.Table:
    """Parse the Query API ``equityShortInterestStandardized`` CSV (comma, header names as in the API)."""
    rows = _Rows(source, "finra_api_csv", settlement_date)
    for no, rec in _delimited_rows(data, source, ",", STANDARDIZED_COLUMNS, quoted=True):
        rows.add("", no, **_cdn_like(rec, source, no, "", symbol_column="securitiesInformationProcessorSymbolIdentifier",
                                     accounting_column="accountingDate", names=API_NUMBER_COLUMNS))
    return rows.table()


def parse_short_interest_browser_csv(data: bytes, source: str, *, settlement_date: date | None = None) -> pa.Table:
    """Parse a finra.org data-browser CSV export (DD-MM-YYYY dates, no flags, no exchange code)."""
    rows = _Rows(source, "finra_browser_csv", settlement_date)
    names = dict(current_short="currentShortShareNumber", previous_short="previousShortShareNumber",
                 change="percentageChangefromPreviousShort", change_percent="changePercent",
                 avg_daily_volume="averageShortShareNumber", days_to_cover="daysToCoverNumber")
    for no, rec in _delimited_rows(data, source, ",", BROWSER_COLUMNS, quoted=True):
        numbers = _common_numbers(rec.__getitem__, source, no, "", names)
        rows.add(
            "", no,
            settlement_date=parse_yyyymmdd(rec["settlementDate"], column="settlementDate", source=source, line=no,
                                           fmt="%d-%m-%Y"),
            symbol=require_text(rec["issueSymbolIdentifier"], column="issueSymbolIdentifier", source=source, line=no),
            issue_name=_optional_text(rec["issueName"]),
            market_class=_optional_text(rec["marketCategoryCode"]),
            market_description=_optional_text(rec["marketCategoryDescription"]),
            exchange_code=None, accounting_date=None, revision_flag=None, stock_split_flag=None, **numbers,
        )
    return rows.table()


def _cdn_like(rec: dict, source: str, line: int | None, where: str, *, symbol_column: str, accounting_column: str,
              names: dict[str, str]) -> dict:
    """Row values for the shapes that use FINRA's API field names (CDN file, JSON, standardized CSV)."""
    get = rec.__getitem__
    try:
        symbol = require_text(get(symbol_column), column=symbol_column, source=source, line=line)
        settlement = parse_yyyymmdd(get("settlementDate"), column="settlementDate", source=source, line=line,
                                    fmt="%Y-%m-%d")
        accounting_text = (get(accounting_column) or "").strip()
        accounting = (parse_yyyymmdd(accounting_text, column=accounting_column, source=source, line=line)
                      if accounting_text else None)
    except ParseError as exc:
        if not where:
            raise
        raise ParseError(source, f"{where}{exc.problem}", line) from None
    return dict(
        settlement_date=settlement, symbol=symbol,
        issue_name=_optional_text(get("issueName")),
        market_class=_optional_text(get("marketClassCode")),
        market_description=None,
        exchange_code=_optional_text(get("issuerServicesGroupExchangeCode")),
        accounting_date=accounting,
        revision_flag=_flag(rec.get("revisionFlag"), "R", "revisionFlag", source, line, where),
        stock_split_flag=_flag(rec.get("stockSplitFlag"), "S", "stockSplitFlag", source, line, where),
        **_common_numbers(get, source, line, where, names),
    )


# ------------------------------------------------------------------------------- JSON (Query API)

def parse_consolidated_short_interest_json(pages: list[bytes], source: str, *,
                                           settlement_date: date | None = None) -> pa.Table:
    """Rows of ``consolidatedShortInterest`` from the JSON pages the FINRA API client collected.

    Each page is a JSON array of objects; an empty body (HTTP 204) is an empty page. Errors name the
    page and record (1-based) since JSON has no meaningful lines.
    """
    rows = _Rows(source, "finra_api_json", settlement_date)
    required = set(CDN_COLUMNS) - _OPTIONAL_JSON_FIELDS
    for page_no, page in enumerate(pages, start=1):
        if not page.strip():
            continue
        page_source = f"{source} page {page_no}"
        try:
            records = json.loads(decode_utf8(page, page_source), parse_float=Decimal)
        except json.JSONDecodeError as exc:
            raise ParseError(page_source, f"invalid JSON: {exc.msg} (char {exc.pos})", exc.lineno) from None
        if not isinstance(records, list):
            raise ParseError(page_source, f"expected a JSON array of records, got {type(records).__name__}")
        for rec_no, record in enumerate(records, start=1):
            where = f"record {rec_no}: "
            if not isinstance(record, dict):
                raise ParseError(page_source, f"{where}expected an object, got {type(record).__name__}")
            extra = sorted(set(record) - set(CDN_COLUMNS))
            if extra:
                raise ParseError(page_source, f"{where}unexpected field(s) {extra}")
            missing = sorted(required - set(record))
            if missing:
                raise ParseError(page_source, f"{where}missing field(s) {missing}")
            texts = {k: _json_text(v, k, page_source, where) for k, v in record.items()}
            rows.source = page_source
            rows.add(where, None, **_cdn_like(texts, page_source, None, where, symbol_column="symbolCode",
                                              accounting_column="accountingYearMonthNumber", names=API_NUMBER_COLUMNS))
    rows.source = source
    return rows.table()


def _json_text(value, key: str, source: str, where: str) -> str:
    """JSON scalars as the text the delimited parsers see; null -> ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise ParseError(source, f"{where}unexpected boolean in field {key}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return value
    raise ParseError(source, f"{where}unexpected {type(value).__name__} in field {key}")
