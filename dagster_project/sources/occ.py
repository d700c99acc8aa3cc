"""OCC market-data batch reports: ``volume-query`` (cleared volume by account type) and ``series-search`` (OI).

``volume-query`` (CSV, header ``quantity,underlying,symbol,actype,porc,exchange,actdate``; decode
``utf-8-sig``): one row per (option symbol, account type, call/put, exchange, activity date). ``actype``
is C = customer, M = market maker, F = firm; ``porc`` is C/P. When OCC has nothing for the query it
answers with a small HTML or text page instead of the CSV; that is "not published", not a parse error.
Dates older than OCC's ~24-month retention answer "report date cannot be prior ..." (a hard error).

``series-search`` (tab-delimited text, no header, no date, no history parameter: a snapshot of the
current open interest, so the caller supplies the capture time). Columns by position::

    0 root (space padded)  1 empty (root is followed by two tabs)  2,3,4 expiry year, month, day
    5 strike integer part  6 strike thousandths  7 listed sides "C P" | "C" | "P"
    8 call OI  9 put OI  10 position limit

Lines before the first data row that do not have this shape are treated as a preamble; after the
first data row a malformed line is a :class:`ParseError`. Digit-prefixed roots (``2SPX``: adjusted
or FLEX series) are excluded from the standard chain and counted.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timezone

import numpy as np
import pyarrow as pa

from dagster_project.errors import NotPublishedError, ParseError, SourceError
from dagster_project.settings import contact_user_agent
from dagster_project.sources.transport import Fetcher, HttpFetcher

VOLUME_QUERY_PATH = "/volume-query"
SERIES_SEARCH_PATH = "/series-search"
VOLUME_QUERY_HEADER = ["quantity", "underlying", "symbol", "actype", "porc", "exchange", "actdate"]
ACCOUNT_TYPES = {"C": "customer", "M": "market_maker", "F": "firm"}
#: A reply without the CSV header smaller than this is OCC's "no data" page.
NO_DATA_MAX_BYTES = 100_000


def _field(name: str, type_: pa.DataType, unit: str) -> pa.Field:
    return pa.field(name, type_, metadata={"unit": unit})


VOLUME_SCHEMA = pa.schema([
    _field("report_date", pa.date32(), "date requested"),
    _field("actdate", pa.date32(), "activity (trade) date"),
    _field("underlying", pa.string(), "ticker"),
    _field("symbol", pa.string(), "option symbol / root as OCC reports it"),
    _field("actype", pa.string(), "C customer | M market maker | F firm"),
    _field("account_type", pa.string(), "customer | market_maker | firm"),
    _field("porc", pa.string(), "C call | P put"),
    _field("exchange", pa.string(), "exchange code"),
    _field("quantity", pa.int64(), "contracts"),
])

VOLUME_BY_ACCOUNT_SCHEMA = pa.schema([
    _field("actdate", pa.date32(), "activity (trade) date"),
    _field("underlying", pa.string(), "ticker"),
    _field("account_type", pa.string(), "customer | market_maker | firm"),
    _field("call_contracts", pa.int64(), "contracts"),
    _field("put_contracts", pa.int64(), "contracts"),
    _field("total_contracts", pa.int64(), "contracts"),
])

SERIES_SCHEMA = pa.schema([
    _field("underlying", pa.string(), "ticker queried"),
    _field("root", pa.string(), "option root"),
    _field("expiration", pa.date32(), "date"),
    _field("strike_thousandths", pa.int64(), "strike x 1000 (exact)"),
    _field("strike", pa.float64(), "underlying price units"),
    _field("listed_sides", pa.string(), "C P | C | P"),
    _field("call_open_interest", pa.int64(), "contracts"),
    _field("put_open_interest", pa.int64(), "contracts"),
    _field("position_limit", pa.int64(), "contracts"),
    _field("captured_at", pa.timestamp("us", tz="UTC"), "UTC instant the snapshot was fetched"),
])


# --------------------------------------------------------------------------------------------- fetch

def occ_http_fetcher(base_url: str | None = None, policy=None) -> HttpFetcher:
    """HTTP fetcher for ``marketdata.theocc.com`` (base URL from ``DEALERFLOW_OCC_URL``)."""
    return HttpFetcher("OCC", contact_user_agent(), base_url=base_url, policy=policy)


def volume_query_params(report_date: date, symbol: str, *, report_type: str = "D", account_type: str = "ALL",
                        porc: str = "BOTH", product_kind: str = "ALL", symbol_type: str = "U") -> dict:
    """Query parameters of one per-underlying daily volume-query CSV (all account types, calls and puts)."""
    return {"reportDate": report_date.strftime("%Y%m%d"), "format": "csv", "volumeQueryType": "O",
            "symbolType": symbol_type, "symbol": symbol.upper(), "reportType": report_type,
            "accountType": account_type, "productKind": product_kind, "porc": porc}


def series_search_params(symbol: str, symbol_type: str = "U") -> dict:
    return {"symbolType": symbol_type, "symbol": symbol.upper()}


def fetch_volume_query(fetcher: Fetcher, report_date: date, symbol: str, **kwargs) -> bytes:
    params = volume_query_params(report_date, symbol, **kwargs)
    return fetcher.get(VOLUME_QUERY_PATH, params, what=f"OCC volume-query {symbol.upper()} {report_date:%Y-%m-%d}")


def fetch_series_search(fetcher: Fetcher, symbol: str) -> bytes:
    return fetcher.get(SERIES_SEARCH_PATH, series_search_params(symbol), what=f"OCC series-search {symbol.upper()}")


def load_volume_query(fetcher: Fetcher, report_date: date, symbol: str) -> tuple[bytes, pa.Table]:
    payload = fetch_volume_query(fetcher, report_date, symbol)
    source = fetcher.describe(VOLUME_QUERY_PATH, volume_query_params(report_date, symbol))
    return payload, parse_volume_query(payload, source, report_date=report_date)


def load_series_search(fetcher: Fetcher, symbol: str, captured_at: datetime) -> tuple[bytes, "SeriesSearch"]:
    payload = fetch_series_search(fetcher, symbol)
    source = fetcher.describe(SERIES_SEARCH_PATH, series_search_params(symbol))
    return payload, parse_series_search(payload, source, underlying=symbol, captured_at=captured_at)


# ------------------------------------------------------------------------------------- volume-query

_ACTDATE_FORMATS = ("%Y%m%d", "%Y-%m-%d", "%m/%d/%Y")


def _parse_actdate(text: str, cache: dict) -> date:
    d = cache.get(text)
    if d is None:
        for fmt in _ACTDATE_FORMATS:
            try:
                d = datetime.strptime(text, fmt).date()
                break
            except ValueError:
                continue
        else:
            raise ValueError(f"actdate {text!r} is not YYYYMMDD, YYYY-MM-DD or MM/DD/YYYY")
        cache[text] = d
    return d


def parse_volume_query(payload: bytes, source: str, *, report_date: date) -> pa.Table:
    """Parse a volume-query CSV into :data:`VOLUME_SCHEMA`.

    Raises :class:`NotPublishedError` for OCC's small "no data" reply and :class:`SourceError` for the
    retention message; a large reply without the header is a :class:`ParseError`.
    """
    text = payload.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    first = next((k for k, line in enumerate(lines) if line.strip()), None)
    header = [h.strip().lower() for h in lines[first].split(",")] if first is not None else []
    if header != VOLUME_QUERY_HEADER:
        snippet = re.sub(r"<[^>]+>", " ", text)
        snippet = " ".join(snippet.split())[:160]
        if "prior" in snippet.lower() and "date" in snippet.lower():
            raise SourceError(f"{source}: report date outside OCC retention: {snippet!r}")
        if len(payload) < NO_DATA_MAX_BYTES:
            raise NotPublishedError(f"{source}: OCC answered without data: {snippet or '(empty reply)'!r}")
        raise ParseError(source, f"expected header {','.join(VOLUME_QUERY_HEADER)}, got {lines[first][:80]!r}",
                         (first or 0) + 1)
    cache: dict = {}
    recs = []
    for lineno, row in enumerate(csv.reader(lines[first + 1:]), start=first + 2):
        if not row or all(not f.strip() for f in row):
            continue
        if len(row) != 7:
            raise ParseError(source, f"expected 7 fields, got {len(row)}", lineno)
        qty, under, sym, actype, porc, exch, actdate = (f.strip() for f in row)
        if not re.fullmatch(r"\d+", qty):
            raise ParseError(source, f"quantity {qty!r} is not a non-negative integer", lineno)
        if actype not in ACCOUNT_TYPES:
            raise ParseError(source, f"actype {actype!r} is not one of C, M, F", lineno)
        if porc not in ("C", "P"):
            raise ParseError(source, f"porc {porc!r} is not C or P", lineno)
        try:
            d = _parse_actdate(actdate, cache)
        except ValueError as exc:
            raise ParseError(source, str(exc), lineno) from None
        recs.append((d, under, sym, actype, ACCOUNT_TYPES[actype], porc, exch, int(qty)))
    cols = list(zip(*recs)) if recs else [[] for _ in range(8)]
    n = len(recs)
    return pa.table({
        "report_date": pa.array([report_date] * n, pa.date32()),
        "actdate": pa.array(cols[0], pa.date32()),
        "underlying": pa.array(cols[1], pa.string()),
        "symbol": pa.array(cols[2], pa.string()),
        "actype": pa.array(cols[3], pa.string()),
        "account_type": pa.array(cols[4], pa.string()),
        "porc": pa.array(cols[5], pa.string()),
        "exchange": pa.array(cols[6], pa.string()),
        "quantity": pa.array(cols[7], pa.int64()),
    }, schema=VOLUME_SCHEMA)


def volume_by_account_type(volume: pa.Table) -> pa.Table:
    """Per (actdate, underlying, account type): call, put and total contracts (:data:`VOLUME_BY_ACCOUNT_SCHEMA`)."""
    df = volume.to_pandas()
    if df.empty:
        return VOLUME_BY_ACCOUNT_SCHEMA.empty_table()
    pivot = (df.pivot_table(index=["actdate", "underlying", "account_type"], columns="porc", values="quantity",
                            aggfunc="sum", fill_value=0)
             .reindex(columns=["C", "P"], fill_value=0).reset_index())
    return pa.table({
        "actdate": pa.array(pivot["actdate"].tolist(), pa.date32()),
        "underlying": pa.array(pivot["underlying"].tolist(), pa.string()),
        "account_type": pa.array(pivot["account_type"].tolist(), pa.string()),
        "call_contracts": pa.array(pivot["C"].to_numpy(np.int64)),
        "put_contracts": pa.array(pivot["P"].to_numpy(np.int64)),
        "total_contracts": pa.array((pivot["C"] + pivot["P"]).to_numpy(np.int64)),
    }, schema=VOLUME_BY_ACCOUNT_SCHEMA)


# ------------------------------------------------------------------------------------ series-search

@dataclass(frozen=True)
class SeriesSearch:
    """Parsed snapshot: the standard series plus what was set aside and why."""

    table: pa.Table
    excluded_roots: dict[str, int]
    preamble_lines: int


_SIDES = {"C P", "C", "P", "CP", "P C"}


def _series_fields(line: str) -> list[str] | None:
    f = line.rstrip("\r\n").split("\t")
    if len(f) < 11:
        return None
    if not f[0].strip() or f[1].strip():
        return None
    if not all(f[k].strip().isdigit() for k in (2, 3, 4, 5, 6, 8, 9)):
        return None
    return f


def parse_series_search(payload: bytes, source: str, *, underlying: str, captured_at: datetime) -> SeriesSearch:
    """Parse a series-search snapshot into :data:`SERIES_SCHEMA` (one row per root, expiry, strike)."""
    if captured_at.tzinfo is None:
        raise ValueError("captured_at must be timezone-aware")
    text = payload.decode("utf-8-sig", errors="replace")
    recs = []
    excluded: dict[str, int] = {}
    preamble = 0
    started = False
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        f = _series_fields(line)
        if f is None:
            if not started:
                preamble += 1
                continue
            raise ParseError(source, f"not a series row (root, empty, yyyy, mm, dd, strike, thousandths, "
                                     f"C/P flag, call OI, put OI, limit): {line[:80]!r}", lineno)
        started = True
        root = f[0].strip()
        sides = " ".join(f[7].split())
        if sides not in _SIDES:
            raise ParseError(source, f"column 8 {f[7]!r} is not a C/P flag (column shift?)", lineno)
        if root[0].isdigit():
            excluded[root] = excluded.get(root, 0) + 1
            continue
        try:
            exp = date(int(f[2]), int(f[3]), int(f[4]))
        except ValueError as exc:
            raise ParseError(source, f"invalid expiry {f[2]}-{f[3]}-{f[4]}: {exc}", lineno) from None
        frac = f[6].strip()
        if len(frac) > 3:
            raise ParseError(source, f"strike thousandths {frac!r} has more than 3 digits", lineno)
        limit = f[10].strip()
        recs.append((root, exp, int(f[5]) * 1000 + int(frac), sides, int(f[8]), int(f[9]),
                     int(limit) if limit.isdigit() else None))
    if not recs and not excluded:
        raise NotPublishedError(f"{source}: series-search returned no series for {underlying.upper()}")
    cols = list(zip(*recs)) if recs else [[] for _ in range(7)]
    n = len(recs)
    k = np.asarray(cols[2], dtype=np.int64)
    table = pa.table({
        "underlying": pa.array([underlying.upper()] * n, pa.string()),
        "root": pa.array(cols[0], pa.string()),
        "expiration": pa.array(cols[1], pa.date32()),
        "strike_thousandths": pa.array(k),
        "strike": pa.array(k / 1000.0),
        "listed_sides": pa.array(cols[3], pa.string()),
        "call_open_interest": pa.array(cols[4], pa.int64()),
        "put_open_interest": pa.array(cols[5], pa.int64()),
        "position_limit": pa.array(cols[6], pa.int64()),
        "captured_at": pa.array([captured_at.astimezone(timezone.utc)] * n, pa.timestamp("us", tz="UTC")),
    }, schema=SERIES_SCHEMA)
    return SeriesSearch(table, excluded, preamble)


def series_to_contracts(series: pa.Table) -> pa.Table:
    """Long form keyed like the Cboe chain: (root, expiration, option_type, strike_thousandths) -> open_interest."""
    calls = series.select(["underlying", "root", "expiration", "strike_thousandths", "strike", "call_open_interest"])
    puts = series.select(["underlying", "root", "expiration", "strike_thousandths", "strike", "put_open_interest"])
    calls = calls.rename_columns([*calls.column_names[:-1], "open_interest"]).append_column(
        "option_type", pa.array(["C"] * calls.num_rows, pa.string()))
    puts = puts.rename_columns([*puts.column_names[:-1], "open_interest"]).append_column(
        "option_type", pa.array(["P"] * puts.num_rows, pa.string()))
    return pa.concat_tables([calls, puts]).sort_by(
        [("expiration", "ascending"), ("root", "ascending"), ("strike_thousandths", "ascending"),
         ("option_type", "ascending")])
