"""Synthetic option chains (Cboe delayed-quotes JSON) and OCC reports, in the replay folder layout.

Realistic where the GEX code is sensitive: daily expiries including 0DTE, weeklies, monthlies (on
third Fridays indices list both the AM root and the PM root, e.g. SPX and SPXW), quarterlies and
LEAPS; 5-point strikes near the money widening to 25/100 in the wings; a put skew; open interest
concentrated near the money and on round strikes; deep 0DTE contracts with IV and greeks 0 as Cboe
prints them. Published greeks use ACT/365 with r=4 %, q=1.3 %, so they differ (a little) from the
pipeline's default busdays/262, r=q=0 recomputation, as real feeds do. The SPX chain has ~28k
contracts. Deterministic: every (seed, underlying, trade date) draws from its own generator.

Files: ``<root>/cboe/api/global/delayed_quotes/options/_SPX.json``,
``<root>/occ/series-search@symbol=SPX&symbolType=U`` and ``<root>/occ/volume-query@...`` (file
names from :func:`~dagster_project.sources.transport.replay_relpath`, so the ReplayFetcher and a
local HTTP server both serve them).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from scipy.special import ndtr

from dagster_project.sources.cboe import cboe_symbol, delayed_quotes_path
from dagster_project.sources.occ import (
    SERIES_SEARCH_PATH,
    VOLUME_QUERY_PATH,
    series_search_params,
    volume_query_params,
)
from dagster_project.sources.transport import replay_relpath

NEW_YORK = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
DEFAULT_UNDERLYINGS = ("SPX", "NDX", "SPY", "QQQ")
#: Model the synthetic "feed" uses for its published greeks.
FEED_R, FEED_Q = 0.04, 0.013


@dataclass(frozen=True)
class UnderlyingProfile:
    spot: float
    steps: tuple[float, float, float]  # strike spacing near / mid / far from spot
    atm_vol: float
    total_oi: int  # contracts across the chain
    monthly_root: str
    weekly_root: str


PROFILES = {
    "SPX": UnderlyingProfile(5000.0, (5, 25, 100), 0.16, 15_000_000, "SPX", "SPXW"),
    "NDX": UnderlyingProfile(17500.0, (25, 100, 500), 0.20, 400_000, "NDX", "NDXP"),
    "SPY": UnderlyingProfile(500.0, (1, 5, 10), 0.16, 18_000_000, "SPY", "SPY"),
    "QQQ": UnderlyingProfile(430.0, (1, 5, 10), 0.20, 8_000_000, "QQQ", "QQQ"),
}


def profile_for(underlying: str) -> UnderlyingProfile:
    """Known profiles for the defaults; any other ticker gets a single-stock-like profile."""
    u = underlying.upper()
    if u in PROFILES:
        return PROFILES[u]
    h = zlib.crc32(u.encode())
    spot = float(20 + h % 480)
    step = 1.0 if spot < 200 else 2.5
    return UnderlyingProfile(spot, (step, step * 2, step * 4), 0.25 + (h % 20) / 100, 500_000, u, u)


def _rng(seed: int, *parts) -> np.random.Generator:
    return np.random.default_rng([seed, *[p if isinstance(p, int) else zlib.crc32(str(p).encode()) for p in parts]])


def third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(4 - first.weekday()) % 7 + 14)


def expiries(trade_date: date) -> list[tuple[date, bool]]:
    """(expiry, is_monthly) schedule: 10 daily, 8 weekly Fridays, 12 monthlies, quarterlies to 3y, Dec LEAPS to 5y."""
    days = set(pd.bdate_range(trade_date, periods=11).date)
    fri = trade_date + timedelta(days=(4 - trade_date.weekday()) % 7)
    days |= {fri + timedelta(weeks=k) for k in range(8)}
    monthly = set()
    for k in range(0, 61):
        y, m = divmod(trade_date.month - 1 + k, 12)
        tf = third_friday(trade_date.year + y, m + 1)
        if tf < trade_date:
            continue
        if k <= 12 or (k <= 36 and (m + 1) % 3 == 0) or (m + 1) == 12:
            monthly.add(tf)
    return sorted((d, d in monthly) for d in days | monthly)


def _spot(underlying: str, trade_date: date, seed: int) -> float:
    base = profile_for(underlying).spot
    return round(base * float(np.exp(0.01 * _rng(seed, "spot", underlying, trade_date.toordinal()).standard_normal())), 2)


def _bs(spot, k, t, iv, r, q, is_call):
    """Black-Scholes price and greeks (per share, per 1-point, per 1 vol point, per calendar day)."""
    sqrt_t = np.sqrt(t)
    vst = iv * sqrt_t
    d1 = (np.log(spot / k) + (r - q + 0.5 * iv * iv) * t) / vst
    d2 = d1 - vst
    pdf = np.exp(-0.5 * d1 * d1) / np.sqrt(2 * np.pi)
    dq, dr = np.exp(-q * t), np.exp(-r * t)
    call = spot * dq * ndtr(d1) - k * dr * ndtr(d2)
    put = k * dr * ndtr(-d2) - spot * dq * ndtr(-d1)
    price = np.where(is_call, call, put)
    delta = np.where(is_call, dq * ndtr(d1), dq * (ndtr(d1) - 1))
    gamma = dq * pdf / (spot * vst)
    vega = spot * dq * pdf * sqrt_t / 100
    theta = (-spot * dq * pdf * iv / (2 * sqrt_t)) / 365
    return price, delta, gamma, vega, theta


def generate_chain(underlying: str, trade_date: date, *, seed: int = 0, as_of: time = time(15, 0)) -> tuple[pd.DataFrame, dict]:
    """Per-contract frame (Cboe JSON option fields plus root/expiry/strike/type) and the envelope fields.

    ``as_of`` is New York wall-clock time of the snapshot on ``trade_date`` (0DTE still alive by default).
    """
    u = underlying.upper()
    p = profile_for(u)
    rng = _rng(seed, "chain", u, trade_date.toordinal())
    spot = _spot(u, trade_date, seed)
    snap = datetime.combine(trade_date, as_of, NEW_YORK)
    near, mid, far = p.steps
    parts = []
    for exp, monthly in expiries(trade_date):
        close = datetime.combine(exp, time(16, 0), NEW_YORK)
        t = max((close - snap).total_seconds(), 60.0) / (365 * 86400)
        width = p.atm_vol * np.sqrt(max(t, 5 / 365))
        lo = max(spot * np.exp(-5.0 * width - 0.06), 0.2 * spot)
        hi = min(spot * np.exp(3.5 * width + 0.04), 2.0 * spot)
        grid = np.arange(np.ceil(lo / near) * near, hi, near)
        m = np.abs(grid / spot - 1)
        keep = ((m < 0.065) | (np.isclose(grid % mid, 0) & (m < 0.3)) | np.isclose(grid % far, 0))
        k = np.round(grid[keep], 3)
        roots = [p.weekly_root] if not monthly or p.monthly_root == p.weekly_root else [p.monthly_root, p.weekly_root]
        for root in roots:
            parts.append(pd.DataFrame({"root": root, "expiration": exp, "t": t, "monthly": monthly, "strike": k}))
    chain = pd.concat(parts, ignore_index=True)
    chain = pd.concat([chain.assign(option_type="C"), chain.assign(option_type="P")], ignore_index=True)
    n = len(chain)
    k, t = chain["strike"].to_numpy(), chain["t"].to_numpy()
    is_call = (chain["option_type"] == "C").to_numpy()
    x = np.log(k / spot)
    atm = p.atm_vol * (0.9 + 0.25 * np.exp(-t / 0.08))
    z = x / (atm * np.sqrt(np.maximum(t, 1 / 365)))
    iv = np.clip(atm * (1 - 0.12 * z + 0.02 * z * z), 0.05, 4.0) * np.exp(0.01 * rng.standard_normal(n))

    # Open interest: near the money, on round strikes, puts below / calls above spot, monthlies heavy.
    round_mult = np.select([np.isclose(k % (20 * near), 0), np.isclose(k % (10 * near), 0),
                            np.isclose(k % (5 * near), 0)], [4.0, 2.5, 1.5], 1.0)
    otm = np.where(is_call, k >= spot, k <= spot)
    side = np.where(otm, np.where(is_call, 1.0, 1.25), 0.35)
    exp_mult = np.where(chain["monthly"].to_numpy(), 3.0, 1.0) * np.where(t < 1.5 / 365, 0.6, 1.0)
    weight = np.exp(-0.5 * (z / 1.6) ** 2) * round_mult * side * exp_mult * rng.lognormal(0, 0.6, n)
    oi = np.floor(weight / weight.sum() * p.total_oi).astype(np.int64)
    oi[rng.random(n) < 0.04] = 0

    price, delta, gamma, vega, theta = _bs(spot, k, t, iv, FEED_R, FEED_Q, is_call)
    tick = np.where(price < 3, 0.05, 0.10)
    half = np.maximum(tick, np.round(price * 0.01 / tick) * tick)
    bid = np.maximum(np.round((price - half) / tick) * tick, 0.0)
    ask = np.round((price + half) / tick) * tick
    # Cboe prints IV and greeks as 0 where it cannot solve: deep 0DTE contracts with no bid.
    dead = (t < 1.0 / 365) & (bid <= 0)  # same-day expiry only
    iv, delta, gamma, vega, theta = (np.where(dead, 0.0, a) for a in (iv, delta, gamma, vega, theta))
    delta = np.where(dead & is_call & (k < spot), 1.0, np.where(dead & ~is_call & (k > spot), -1.0, delta))
    volume = np.floor(oi * rng.gamma(0.6, 0.25, n) * np.where(t < 1.5 / 365, 6.0, 1.0)).astype(np.int64)

    k1000 = np.round(k * 1000).astype(np.int64)
    yymmdd = pd.to_datetime(chain["expiration"]).dt.strftime("%y%m%d")
    symbols = chain["root"] + yymmdd + chain["option_type"] + pd.Series(k1000).map("{:08d}".format)
    frame = pd.DataFrame({
        "option": symbols, "bid": bid.round(2), "ask": ask.round(2), "bid_size": rng.integers(1, 200, n).astype(float),
        "ask_size": rng.integers(1, 200, n).astype(float), "iv": iv.round(4), "open_interest": oi.astype(float),
        "volume": volume.astype(float), "delta": delta.round(4), "gamma": gamma.round(6), "vega": vega.round(4),
        "theta": theta.round(4), "rho": 0.0, "theo": price.round(4), "change": 0.0, "open": 0.0, "high": 0.0,
        "low": 0.0, "tick": "no_change", "last_trade_price": ((bid + ask) / 2).round(2), "last_trade_time": None,
        "percent_change": 0.0, "prev_day_close": ((bid + ask) / 2).round(2),
        # helper columns (not in the feed)
        "_root": chain["root"], "_expiration": chain["expiration"], "_strike_thousandths": k1000,
        "_option_type": chain["option_type"],
    })
    envelope = {
        "timestamp": snap.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "symbol": cboe_symbol(u), "spot": spot, "last_trade_time": snap.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    return frame, envelope


def chain_json_bytes(frame: pd.DataFrame, envelope: dict) -> bytes:
    """The Cboe delayed-quotes JSON document for a generated chain."""
    spot = envelope["spot"]
    options = frame[[c for c in frame.columns if not c.startswith("_")]].to_dict("records")
    doc = {"timestamp": envelope["timestamp"], "symbol": envelope["symbol"], "data": {
        "symbol": envelope["symbol"], "security_type": "index" if envelope["symbol"].startswith("_") else "stock",
        "exchange_id": 5, "current_price": spot, "price_change": 0.0, "price_change_percent": 0.0,
        "bid": round(spot - 0.5, 2), "ask": round(spot + 0.5, 2), "bid_size": 1, "ask_size": 1,
        "open": spot, "high": spot, "low": spot, "close": spot, "prev_day_close": spot, "volume": 0,
        "iv30": 16.0, "iv30_change": 0.0, "iv30_change_percent": 0.0, "seqno": 1,
        "last_trade_time": envelope["last_trade_time"], "tick": "no_change", "options": options}}
    return json.dumps(doc, separators=(",", ":")).encode()


def series_search_bytes(frame: pd.DataFrame, seed: int = 0) -> bytes:
    """OCC series-search text for the same chain (OI equal to the Cboe OI), plus adjusted ``2<root>`` rows."""
    f = frame
    calls = f[f["_option_type"] == "C"].set_index(["_root", "_expiration", "_strike_thousandths"])["open_interest"]
    puts = f[f["_option_type"] == "P"].set_index(["_root", "_expiration", "_strike_thousandths"])["open_interest"]
    both = pd.concat([calls.rename("c"), puts.rename("p")], axis=1).fillna(0).astype(np.int64).reset_index()
    lines = [f"{r:<6}\t\t{e.year}\t{e.month:02d}\t{e.day:02d}\t{k // 1000}\t{k % 1000:03d}\tC P\t{c}\t{p}\t250000"
             for r, e, k, c, p in both.itertuples(index=False)]
    r0, e0, k0 = both.iloc[len(both) // 2][["_root", "_expiration", "_strike_thousandths"]]
    lines.append(f"{'2' + r0:<6}\t\t{e0.year}\t{e0.month:02d}\t{e0.day:02d}\t{k0 // 1000}\t{k0 % 1000:03d}\tC P\t7\t3\t250000")
    return ("\n".join(lines) + "\n").encode()


EXCHANGES_INDEX = ("CBOE", "C2")
EXCHANGES_EQUITY = ("AMEX", "ARCA", "BATS", "BOX", "CBOE", "C2", "EDGX", "GEM", "ISE", "MIAX", "NSDQ", "PHLX")


def volume_query_bytes(frame: pd.DataFrame, underlying: str, trade_date: date, seed: int = 0) -> bytes:
    """OCC volume-query CSV: the chain's volume split by account type, call/put and exchange."""
    rng = _rng(seed, "occvol", underlying, trade_date.toordinal())
    exchanges = EXCHANGES_INDEX if cboe_symbol(underlying).startswith("_") else EXCHANGES_EQUITY
    rows = ["quantity,underlying,symbol,actype,porc,exchange,actdate"]
    vol = frame.groupby(["_root", "_option_type"])["volume"].sum()
    for (root, cp), total in vol.items():
        shares = rng.dirichlet([6, 3, 1])  # customer, market maker, firm
        for actype, share in zip("CMF", shares):
            split = rng.dirichlet(np.ones(len(exchanges))) * total * share
            for exch, q in zip(exchanges, np.floor(split).astype(np.int64)):
                if q > 0:
                    rows.append(f"{q},{underlying.upper()},{root},{actype},{cp},{exch},{trade_date:%Y%m%d}")
    return ("\n".join(rows) + "\n").encode()


def write_replay(root: Path, trade_date: date, underlyings=DEFAULT_UNDERLYINGS, *, seed: int = 0,
                 as_of: time = time(15, 0)) -> list[Path]:
    """Write Cboe JSON, OCC series-search and OCC volume-query files for each underlying; returns the paths."""
    root = Path(root)
    written = []
    for u in underlyings:
        frame, env = generate_chain(u, trade_date, seed=seed, as_of=as_of)
        files = {
            root / "cboe" / replay_relpath(delayed_quotes_path(u)): chain_json_bytes(frame, env),
            root / "occ" / replay_relpath(SERIES_SEARCH_PATH, series_search_params(u)): series_search_bytes(frame, seed),
            root / "occ" / replay_relpath(VOLUME_QUERY_PATH, volume_query_params(trade_date, u)):
                volume_query_bytes(frame, u, trade_date, seed),
        }
        for path, data in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
            written.append(path)
    return written
