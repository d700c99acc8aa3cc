"""Cboe option chains: the delayed-quotes JSON feed and the quote-table CSV download.

Two formats, one parser each, one normalized per-contract table (:data:`CHAIN_SCHEMA`):

* JSON ``/api/global/delayed_quotes/options/{SYM}.json`` (indices carry a ``_`` prefix: ``_SPX`` holds
  SPX and SPXW). Contracts are OSI symbols without root padding, parsed from the right
  (``ROOT + YYMMDD + C|P + strike×1000``). ``timestamp`` is naive; its zone is not documented
  (peers assume UTC), so it is a parameter.
* CSV quote table (the "download" button of the Cboe quote page): optional blank first line, a title
  line carrying ``Last: <spot>``, a date line in one of two styles (``Date: February 5 2022, 8:09 PM EST``
  or ``Date: December 12, 2022 at 6:01 PM EST``, New York local time), a fixed 22-column header, then
  one row per strike with the call and the put side by side.

Units in the normalized table: prices in the underlying's currency per share (index points for
indices), ``iv`` as a decimal (0.20 = 20 %), ``gamma`` as published (delta change per share per
1-point move of the underlying), ``volume``/``open_interest`` in contracts. Cboe reports 0 for IV and
greeks it could not compute (typically 0DTE rows after the close); those zeros are kept as published
and handled explicitly by :mod:`dagster_project.gex`.
"""

from __future__ import annotations

import csv
import json
import math
import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa

from dagster_project.errors import ParseError
from dagster_project.sources.transport import Fetcher, HttpFetcher

NEW_YORK = ZoneInfo("America/New_York")
DELAYED_QUOTES_PATH = "/api/global/delayed_quotes/options/{symbol}.json"

#: Cboe serves index chains under an underscore-prefixed symbol.
INDEX_UNDERLYINGS = frozenset({"SPX", "NDX", "RUT", "VIX", "XSP", "DJX", "OEX", "XEO", "MRUT", "XND"})

#: Option roots that belong to another underlying (weeklies / PM-settled series).
ROOT_TO_UNDERLYING = {"SPXW": "SPX", "SPXPM": "SPX", "NDXP": "NDX", "RUTW": "RUT", "VIXW": "VIX",
                      "XSPW": "XSP", "DJXW": "DJX", "MRUTW": "MRUT"}

#: A browser-like User-Agent: the Cboe CDN rejects some library defaults.
CBOE_USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) dealerflow/0.1"

CSV_HEADER = ("Expiration Date,Calls,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,"
              "Puts,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest").split(",")

_OSI = re.compile(r"^([A-Z0-9]{1,6})(\d{6})([CP])(\d{8})$")
_DATE_LINE = re.compile(
    r"^Date:\s*([A-Za-z]+)\s+(\d{1,2}),?\s+(\d{4})(?:\s*,|\s+at)\s+(\d{1,2}):(\d{2})\s*([AP]M)\s*([A-Z]{1,4})?\s*$"
)


def _field(name: str, type_: pa.DataType, unit: str) -> pa.Field:
    return pa.field(name, type_, metadata={"unit": unit})


#: The normalized per-contract chain; field metadata ``unit`` names each column's unit.
CHAIN_SCHEMA = pa.schema([
    _field("underlying", pa.string(), "ticker (SPX, SPY, ...)"),
    _field("root", pa.string(), "option root (SPX, SPXW, ...)"),
    _field("option_symbol", pa.string(), "OSI symbol without root padding"),
    _field("expiration", pa.date32(), "date"),
    _field("option_type", pa.string(), "C or P"),
    _field("strike_thousandths", pa.int64(), "strike x 1000 (exact)"),
    _field("strike", pa.float64(), "underlying price units (index points / $)"),
    _field("bid", pa.float64(), "premium per share"),
    _field("ask", pa.float64(), "premium per share"),
    _field("last_price", pa.float64(), "premium per share"),
    _field("volume", pa.int64(), "contracts"),
    _field("open_interest", pa.int64(), "contracts"),
    _field("iv", pa.float64(), "decimal per year (0.20 = 20%); 0 = not published"),
    _field("delta", pa.float64(), "per share per 1-point move"),
    _field("gamma", pa.float64(), "source gamma: delta change per share per 1-point move"),
    _field("spot", pa.float64(), "underlying price units at quote_time"),
    _field("quote_time", pa.timestamp("us", tz="UTC"), "UTC instant"),
    _field("source_format", pa.string(), "cboe_json | cboe_csv"),
])


# --------------------------------------------------------------------------------------------- fetch

def cboe_symbol(underlying: str) -> str:
    """Feed symbol: ``_SPX`` for indices, ``SPY`` for stocks and ETFs."""
    u = underlying.upper().lstrip("_")
    return f"_{u}" if u in INDEX_UNDERLYINGS else u


def delayed_quotes_path(underlying: str) -> str:
    return DELAYED_QUOTES_PATH.format(symbol=cboe_symbol(underlying))


def cboe_http_fetcher(base_url: str | None = None, policy=None) -> HttpFetcher:
    """HTTP fetcher for the Cboe CDN (base URL from ``DEALERFLOW_CBOE_URL``)."""
    return HttpFetcher("CBOE", CBOE_USER_AGENT, base_url=base_url, policy=policy)


def fetch_delayed_quotes(fetcher: Fetcher, underlying: str) -> bytes:
    """Raw JSON bytes of one underlying's full chain (keep them: the feed has no history)."""
    return fetcher.get(delayed_quotes_path(underlying), what=f"Cboe delayed quotes {underlying.upper()}")


def load_delayed_quotes(fetcher: Fetcher, underlying: str, *, timestamp_tz: str = "UTC") -> tuple[bytes, pa.Table]:
    """Fetch and parse; returns the payload too so callers can land it unchanged."""
    payload = fetch_delayed_quotes(fetcher, underlying)
    source = fetcher.describe(delayed_quotes_path(underlying))
    return payload, parse_delayed_quotes_json(payload, source, underlying=underlying, timestamp_tz=timestamp_tz)


# ------------------------------------------------------------------------------------------- helpers

def underlying_of_root(root: str) -> str:
    return ROOT_TO_UNDERLYING.get(root, root)


def _build_table(*, underlying: np.ndarray, root: np.ndarray, option_symbol: np.ndarray, expiration: np.ndarray,
                 option_type: np.ndarray, strike_thousandths: np.ndarray, bid, ask, last_price, volume, open_interest,
                 iv, delta, gamma, spot: float, quote_time: datetime, source_format: str) -> pa.Table:
    n = len(option_symbol)
    cols = {
        "underlying": pa.array(underlying, pa.string()),
        "root": pa.array(root, pa.string()),
        "option_symbol": pa.array(option_symbol, pa.string()),
        "expiration": pa.array(np.asarray(expiration, dtype="datetime64[D]"), pa.date32()),
        "option_type": pa.array(option_type, pa.string()),
        "strike_thousandths": pa.array(np.asarray(strike_thousandths, dtype=np.int64)),
        "strike": pa.array(np.asarray(strike_thousandths, dtype=np.int64) / 1000.0),
        "bid": pa.array(np.asarray(bid, dtype=np.float64)),
        "ask": pa.array(np.asarray(ask, dtype=np.float64)),
        "last_price": pa.array(np.asarray(last_price, dtype=np.float64)),
        "volume": pa.array(np.asarray(volume, dtype=np.int64)),
        "open_interest": pa.array(np.asarray(open_interest, dtype=np.int64)),
        "iv": pa.array(np.asarray(iv, dtype=np.float64)),
        "delta": pa.array(np.asarray(delta, dtype=np.float64)),
        "gamma": pa.array(np.asarray(gamma, dtype=np.float64)),
        "spot": pa.array(np.full(n, float(spot))),
        "quote_time": pa.array([quote_time.astimezone(timezone.utc)] * n, pa.timestamp("us", tz="UTC")),
        "source_format": pa.array([source_format] * n, pa.string()),
    }
    table = pa.table(cols, schema=CHAIN_SCHEMA)
    keys = [("expiration", "ascending"), ("root", "ascending"), ("strike_thousandths", "ascending"),
            ("option_type", "ascending")]
    return table.sort_by(keys)


def _as_int(values: pd.Series, what: str, source: str, locate) -> np.ndarray:
    """Integral numbers (JSON may carry ``1000.0``); anything else names the first bad element."""
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(num) | (num != np.round(num))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ParseError(source, f"{locate(i)}: {what} {values.iloc[i]!r} is not an integer")
    return num.astype(np.int64)


def _as_float(values: pd.Series | None, n: int) -> np.ndarray:
    if values is None:
        return np.full(n, np.nan)
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


# --------------------------------------------------------------------------------------------- JSON

def parse_delayed_quotes_json(payload: bytes, source: str, *, underlying: str | None = None,
                              timestamp_tz: str = "UTC") -> pa.Table:
    """Parse ``delayed_quotes/options/{SYM}.json`` into :data:`CHAIN_SCHEMA`.

    ``timestamp_tz`` is the zone of the feed's naive ``timestamp`` (undocumented; ``UTC`` by default).
    """
    try:
        doc = json.loads(payload.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(source, f"not a Cboe delayed-quotes JSON document: {exc}") from exc
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("options"), list):
        raise ParseError(source, "missing data.options list")
    spot = data.get("current_price")
    if not isinstance(spot, (int, float)) or not math.isfinite(spot) or spot <= 0:
        raise ParseError(source, f"data.current_price {spot!r} is not a positive number")
    stamp = doc.get("timestamp")
    try:
        quote_time = datetime.strptime(str(stamp), "%Y-%m-%d %H:%M:%S").replace(tzinfo=ZoneInfo(timestamp_tz))
    except ValueError as exc:
        raise ParseError(source, f"timestamp {stamp!r} is not 'YYYY-MM-DD HH:MM:SS'") from exc
    feed_symbol = str(data.get("symbol") or doc.get("symbol") or "").lstrip("_").upper()
    underlying = (underlying or feed_symbol or "").upper().lstrip("_")
    if not underlying:
        raise ParseError(source, "no underlying symbol in the document and none given")

    options = data["options"]
    if not options:
        raise ParseError(source, "data.options is empty")
    if not all(isinstance(o, dict) for o in options):
        raise ParseError(source, "data.options must be a list of objects")
    frame = pd.DataFrame.from_records(options)
    for required in ("option", "open_interest", "iv", "gamma"):
        if required not in frame.columns:
            raise ParseError(source, f"data.options[]: missing field {required!r}")
    def locate(i: int) -> str:
        return f"data.options[{i}] ({options[i].get('option')!r})"

    symbols = frame["option"].astype("string").fillna("")
    parts = symbols.str.extract(_OSI.pattern)
    bad = parts[0].isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ParseError(source, f"{locate(i)}: not an OSI symbol ROOT+YYMMDD+C|P+strike*1000")
    expiration = pd.to_datetime(parts[1], format="%y%m%d", errors="coerce")
    if expiration.isna().any():
        i = int(np.flatnonzero(expiration.isna().to_numpy())[0])
        raise ParseError(source, f"{locate(i)}: invalid expiry date {parts[1].iloc[i]!r}")
    roots = parts[0].to_numpy(dtype=object)
    n = len(frame)
    oi = _as_int(frame["open_interest"], "open_interest", source, locate)
    volume = (_as_int(frame["volume"].fillna(0), "volume", source, locate) if "volume" in frame.columns
              else np.zeros(n, dtype=np.int64))
    return _build_table(
        underlying=np.full(n, underlying, dtype=object), root=roots,
        option_symbol=symbols.to_numpy(dtype=object), expiration=expiration.to_numpy().astype("datetime64[D]"),
        option_type=parts[2].to_numpy(dtype=object), strike_thousandths=parts[3].astype(np.int64).to_numpy(),
        bid=_as_float(frame.get("bid"), n), ask=_as_float(frame.get("ask"), n),
        last_price=_as_float(frame.get("last_trade_price"), n), volume=volume, open_interest=oi,
        iv=_as_float(frame["iv"], n), delta=_as_float(frame.get("delta"), n), gamma=_as_float(frame["gamma"], n),
        spot=float(spot), quote_time=quote_time, source_format="cboe_json",
    )


# ---------------------------------------------------------------------------------------------- CSV

def parse_quote_date_line(text: str) -> datetime:
    """``Date: February 5 2022, 8:09 PM EST`` or ``Date: December 12, 2022 at 6:01 PM EST`` -> aware datetime.

    The zone abbreviation is informational: times are New York wall-clock time (EST/EDT).
    """
    m = _DATE_LINE.match(text.strip())
    if not m:
        raise ValueError(f"unrecognised date line {text!r}")
    month, day, year, hour, minute, ampm, _zone = m.groups()
    naive = datetime.strptime(f"{month} {day} {year} {hour}:{minute} {ampm}", "%B %d %Y %I:%M %p")
    return naive.replace(tzinfo=NEW_YORK)


def parse_quote_table_csv(payload: bytes, source: str, *, underlying: str | None = None) -> pa.Table:
    """Parse a Cboe quote-table CSV download into :data:`CHAIN_SCHEMA` (two contracts per strike row)."""
    try:
        text = payload.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(source, f"not UTF-8 text: {exc}") from exc
    lines = text.splitlines()
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i >= len(lines):
        raise ParseError(source, "empty file")

    title = next(csv.reader([lines[i]]))
    last = [f for f in title if f.strip().startswith("Last:")]
    try:
        spot = float(last[0].split(":", 1)[1])
    except (IndexError, ValueError):
        raise ParseError(source, "title line has no 'Last: <price>' field", i + 1) from None
    if not (math.isfinite(spot) and spot > 0):
        raise ParseError(source, f"spot {spot!r} is not positive", i + 1)
    i += 1
    if i >= len(lines):
        raise ParseError(source, "missing date line", i + 1)
    try:
        quote_time = parse_quote_date_line(next(csv.reader([lines[i]]))[0])
    except (ValueError, StopIteration) as exc:
        raise ParseError(source, f"date line: {exc}", i + 1) from None
    i += 1
    header = next(csv.reader([lines[i]])) if i < len(lines) else []
    if [h.strip() for h in header] != CSV_HEADER:
        raise ParseError(source, f"header is not the 22-column Cboe quote table header: {header[:4]}...", i + 1)

    exp_cache: dict[str, date] = {}
    rows_c: list[tuple] = []
    rows_p: list[tuple] = []
    for lineno, row in enumerate(csv.reader(lines[i + 1:]), start=i + 2):
        if not row or all(not f.strip() for f in row):
            continue
        if len(row) != 22:
            raise ParseError(source, f"expected 22 fields, got {len(row)}", lineno)
        try:
            exp_text = row[0].strip()
            exp = exp_cache.get(exp_text)
            if exp is None:
                exp = exp_cache[exp_text] = datetime.strptime(exp_text, "%a %b %d %Y").date()
            strike_k = round(float(row[11]) * 1000)
            for side, flag, out in ((row[1:11], "C", rows_c), (row[12:22], "P", rows_p)):
                sym = side[0].strip()
                m = _OSI.match(sym)
                if not m:
                    raise ValueError(f"{sym!r} is not an OSI symbol")
                root, yymmdd, cp, k8 = m.groups()
                if cp != flag:
                    raise ValueError(f"{sym!r} in the {'call' if flag == 'C' else 'put'} columns")
                if datetime.strptime(yymmdd, "%y%m%d").date() != exp:
                    raise ValueError(f"{sym!r} expiry differs from Expiration Date {exp_text!r}")
                if int(k8) != strike_k:
                    raise ValueError(f"{sym!r} strike differs from Strike {row[11]!r}")
                last_sale, _net, bid, ask, vol, iv, delta, gamma, oi = side[1:10]
                out.append((root, sym, exp, strike_k, float(bid), float(ask), float(last_sale),
                            _int_field(vol, "Volume"), float(iv), float(delta), float(gamma),
                            _int_field(oi, "Open Interest")))
        except ValueError as exc:
            raise ParseError(source, str(exc), lineno) from None
    if not rows_c:
        raise ParseError(source, "no strike rows after the header")

    recs = rows_c + rows_p
    cols = list(zip(*recs))
    n = len(recs)
    roots = np.array(cols[0], dtype=object)
    under = (underlying.upper() if underlying
             else underlying_of_root(pd.Series(roots).value_counts().index[0]))
    return _build_table(
        underlying=np.full(n, under, dtype=object), root=roots, option_symbol=np.array(cols[1], dtype=object),
        expiration=np.array(cols[2], dtype="datetime64[D]"),
        option_type=np.array(["C"] * len(rows_c) + ["P"] * len(rows_p), dtype=object),
        strike_thousandths=np.array(cols[3], dtype=np.int64), bid=cols[4], ask=cols[5], last_price=cols[6],
        volume=np.array(cols[7], dtype=np.int64), open_interest=np.array(cols[11], dtype=np.int64),
        iv=cols[8], delta=cols[9], gamma=cols[10], spot=spot, quote_time=quote_time, source_format="cboe_csv",
    )


def _int_field(text: str, name: str) -> int:
    t = text.strip()
    if not re.fullmatch(r"-?\d+", t):
        raise ValueError(f"{name} {text!r} is not an integer")
    return int(t)
