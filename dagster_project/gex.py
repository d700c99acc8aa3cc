"""Gamma exposure (GEX) of an option chain: per contract, profile over spot, zero gamma, walls, checks.

Method (research/anchors-gex-peers.md §1, §7): Perfiliev/SqueezeMetrics recipe with every assumption
a parameter of :class:`GexConfig`.

* Gamma is recomputed with Black-Scholes from each contract's own IV (``gamma_bs_per_pt``); the
  published gamma is kept (``gamma_source_per_pt``) and the difference reported.
* Time to expiry: ``busdays_262`` (default, Perfiliev) = business days from the quote date (New York)
  to expiry / 262, floored at 1/262 so same-day expiries are not dropped; ``act365_close`` = actual
  time to 16:00 New York on the expiry date / 365 days, floored at ``min_t_years`` (default one hour).
  AM-settled monthlies (root SPX) are treated as 16:00 too; the difference is a fraction of a day.
* Stored primitive per contract: ``sign x gamma x OI x 100`` = shares (index units) of the underlying the
  dealer must trade per 1-point move (``gex_shares_per_pt``); x spot = $ per point; x spot^2 x 0.01 = $
  per 1 % move. Calls ``+1``, puts ``-1`` (dealers long calls / short puts); both signs are settings.
* Contracts without a usable IV (IV <= 0 or missing: Cboe prints 0 for 0DTE rows after the close)
  cannot be re-priced. Policy ``iv_unavailable="exclude"`` (default): their recomputed gamma is NaN,
  they add nothing to recomputed totals, profile, walls and aggregates, and they are counted in the
  summary (``n_gamma_unavailable``, ``oi_gamma_unavailable_contracts``). Policy ``"source_gamma"``: the
  published gamma stands in for spot-level totals and aggregates; the profile still excludes them
  (re-pricing needs a vol). Source-gamma totals always include every contract as published.
* Profile: total GEX re-priced on a spot grid (default 0.8-1.2 x S, 200 levels) with sticky strike
  (each contract keeps its IV). Zero gamma = every sign change of the total, linearly interpolated;
  the one nearest spot is reported together with the number of crossings.
* Walls: strike with the largest |call GEX| (call wall) and the largest |put GEX| (put wall), summed
  over expiries.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pyarrow as pa

NEW_YORK = ZoneInfo("America/New_York")
BUSINESS_DAYS_PER_YEAR = 262
SHARES_PER_CONTRACT = 100
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
#: |SPX GEX| beyond this ($ per 1 % move) is implausible (anchors §7.9).
SPX_GEX_SANITY_LIMIT_USD_PER_1PCT = 60e9


@dataclass(frozen=True)
class GexConfig:
    """Every modelling choice of the GEX calculation (documented in the module docstring)."""

    r: float = 0.0
    q: float = 0.0
    time_convention: Literal["busdays_262", "act365_close"] = "busdays_262"
    min_t_years: float | None = None
    holidays: tuple[date, ...] = ()
    call_sign: float = 1.0
    put_sign: float = -1.0
    iv_unavailable: Literal["exclude", "source_gamma"] = "exclude"
    grid_low: float = 0.8
    grid_high: float = 1.2
    grid_levels: int = 200

    def __post_init__(self):
        if self.time_convention not in ("busdays_262", "act365_close"):
            raise ValueError(f"unknown time_convention {self.time_convention!r}")
        if self.iv_unavailable not in ("exclude", "source_gamma"):
            raise ValueError(f"unknown iv_unavailable policy {self.iv_unavailable!r}")
        if not (0 < self.grid_low < 1 < self.grid_high) or self.grid_levels < 2:
            raise ValueError("grid must satisfy 0 < grid_low < 1 < grid_high and grid_levels >= 2")

    @property
    def t_floor_years(self) -> float:
        if self.min_t_years is not None:
            return self.min_t_years
        return 1.0 / BUSINESS_DAYS_PER_YEAR if self.time_convention == "busdays_262" else 1.0 / (365 * 24)

    def with_put_sign_flipped(self) -> "GexConfig":
        return replace(self, put_sign=-self.put_sign)


# ------------------------------------------------------------------------------------ Black-Scholes

def bs_gamma(spot, strike, t_years, iv, r: float = 0.0, q: float = 0.0) -> np.ndarray:
    """Black-Scholes-Merton gamma per share per 1-point move (calls and puts alike); broadcasts.

    ``e^{-qT} phi(d1) / (S sigma sqrt T)``; returns NaN where ``iv`` or ``T`` is not positive.
    """
    spot = np.asarray(spot, dtype=np.float64)
    strike = np.asarray(strike, dtype=np.float64)
    t_years = np.asarray(t_years, dtype=np.float64)
    iv = np.asarray(iv, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        vol_sqrt_t = iv * np.sqrt(t_years)
        d1 = (np.log(spot / strike) + (r - q + 0.5 * iv * iv) * t_years) / vol_sqrt_t
        gamma = np.exp(-q * t_years) * np.exp(-0.5 * d1 * d1) * INV_SQRT_2PI / (spot * vol_sqrt_t)
    return np.where((iv > 0) & (t_years > 0), gamma, np.nan)


def time_to_expiry(expiration, quote_time: datetime, config: GexConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T in years, business days to expiry, expired flag) for each expiry under ``config.time_convention``."""
    exp = np.asarray(expiration, dtype="datetime64[D]")
    qdate = np.datetime64(quote_time.astimezone(NEW_YORK).date(), "D")
    holidays = np.array(config.holidays, dtype="datetime64[D]")
    bdays = np.busday_count(qdate, exp, holidays=holidays)
    if config.time_convention == "busdays_262":
        t = np.maximum(bdays, 1) / BUSINESS_DAYS_PER_YEAR
        expired = exp < qdate
    else:
        close = (exp.astype("datetime64[s]") + np.timedelta64(16, "h"))  # 16:00 wall clock on expiry day
        # wall clock -> UTC per distinct expiry (DST aware; few distinct dates)
        uniq, inv = np.unique(close, return_inverse=True)
        utc = np.array([
            np.datetime64(datetime.fromisoformat(str(u)).replace(tzinfo=NEW_YORK).astimezone(ZoneInfo("UTC"))
                          .replace(tzinfo=None), "s") for u in uniq], dtype="datetime64[s]")[inv]
        now = np.datetime64(quote_time.astimezone(ZoneInfo("UTC")).replace(tzinfo=None), "s")
        seconds = (utc - now).astype(np.float64)
        t = seconds / (365.0 * 86400.0)
        expired = seconds <= 0
    return np.maximum(t, config.t_floor_years), bdays.astype(np.int64), expired


# ------------------------------------------------------------------------------------ per contract

CONTRACT_COLUMNS = [
    "underlying", "root", "option_symbol", "expiration", "option_type", "strike", "strike_thousandths",
    "open_interest", "spot", "quote_time", "business_days_to_expiry", "t_years", "is_0dte", "dealer_sign",
    "iv", "gamma_status", "gamma_source_per_pt", "gamma_bs_per_pt", "gamma_bs_rel_diff",
    "gex_shares_per_pt", "gex_usd_per_pt", "gex_usd_per_1pct",
    "gex_source_shares_per_pt", "gex_source_usd_per_1pct",
]

#: Units of every column of :func:`contract_gex` (for docs and Dagster metadata).
CONTRACT_UNITS = {
    "strike": "underlying price units", "open_interest": "contracts", "spot": "underlying price units",
    "business_days_to_expiry": "business days", "t_years": "years", "is_0dte": "bool: 0 business days to expiry",
    "dealer_sign": "+1 / -1", "iv": "decimal per year",
    "gamma_status": "ok | iv_unavailable | expired",
    "gamma_source_per_pt": "published gamma, per share per 1-point move",
    "gamma_bs_per_pt": "Black-Scholes gamma, per share per 1-point move (NaN if not computable)",
    "gamma_bs_rel_diff": "gamma_bs / gamma_source - 1 (NaN if source gamma is 0)",
    "gex_shares_per_pt": "shares (index units) per 1-point move, signed",
    "gex_usd_per_pt": "$ per 1-point move, signed", "gex_usd_per_1pct": "$ per 1% move, signed",
    "gex_source_shares_per_pt": "shares per 1-point move from published gamma, signed",
    "gex_source_usd_per_1pct": "$ per 1% move from published gamma, signed",
}


def _frame(chain) -> pd.DataFrame:
    return chain.to_pandas() if isinstance(chain, pa.Table) else chain.copy()


def contract_gex(chain, config: GexConfig = GexConfig()) -> pd.DataFrame:
    """Per-contract gamma and GEX for a normalized chain (:data:`~dagster_project.sources.cboe.CHAIN_SCHEMA`)."""
    df = _frame(chain)
    if df.empty:
        return pd.DataFrame(columns=CONTRACT_COLUMNS)
    quote_times = pd.to_datetime(df["quote_time"], utc=True)
    if quote_times.nunique() != 1:
        raise ValueError("contract_gex expects one chain snapshot (one quote_time)")
    quote_time = quote_times.iloc[0].to_pydatetime()
    exp = pd.to_datetime(df["expiration"]).to_numpy().astype("datetime64[D]")
    t, bdays, expired = time_to_expiry(exp, quote_time, config)
    spot = df["spot"].to_numpy(np.float64)
    strike = df["strike"].to_numpy(np.float64)
    iv = df["iv"].to_numpy(np.float64)
    oi = df["open_interest"].to_numpy(np.int64)
    g_src = df["gamma"].to_numpy(np.float64)
    is_call = (df["option_type"] == "C").to_numpy()
    sign = np.where(is_call, config.call_sign, config.put_sign)

    iv_ok = np.isfinite(iv) & (iv > 0)
    status = np.where(expired, "expired", np.where(iv_ok, "ok", "iv_unavailable"))
    g_bs = np.where(status == "ok", bs_gamma(spot, strike, t, iv, config.r, config.q), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(g_src > 0, g_bs / g_src - 1.0, np.nan)
    g_used = g_bs
    if config.iv_unavailable == "source_gamma":
        g_used = np.where(status == "iv_unavailable", g_src, g_bs)

    shares = sign * g_used * oi * SHARES_PER_CONTRACT
    shares_src = sign * g_src * oi * SHARES_PER_CONTRACT
    out = pd.DataFrame({
        "underlying": df["underlying"].to_numpy(), "root": df["root"].to_numpy(),
        "option_symbol": df["option_symbol"].to_numpy(),
        "expiration": pd.to_datetime(df["expiration"]).dt.date.to_numpy(),
        "option_type": df["option_type"].to_numpy(), "strike": strike,
        "strike_thousandths": df["strike_thousandths"].to_numpy(np.int64), "open_interest": oi, "spot": spot,
        "quote_time": quote_times.to_numpy(), "business_days_to_expiry": bdays, "t_years": t,
        "is_0dte": bdays <= 0, "dealer_sign": sign, "iv": iv, "gamma_status": status,
        "gamma_source_per_pt": g_src, "gamma_bs_per_pt": g_bs, "gamma_bs_rel_diff": rel,
        "gex_shares_per_pt": shares, "gex_usd_per_pt": shares * spot, "gex_usd_per_1pct": shares * spot * spot * 0.01,
        "gex_source_shares_per_pt": shares_src, "gex_source_usd_per_1pct": shares_src * spot * spot * 0.01,
    })
    return out


# ---------------------------------------------------------------------------------------- profile

PROFILE_COLUMNS = ["spot_level", "gex_usd_per_1pct", "gex_ex_0dte_usd_per_1pct", "gex_ex_next_expiry_usd_per_1pct",
                   "gex_calls_usd_per_1pct", "gex_puts_usd_per_1pct", "gex_shares_per_pt"]


def spot_grid(spot: float, config: GexConfig = GexConfig()) -> np.ndarray:
    return np.linspace(config.grid_low * spot, config.grid_high * spot, config.grid_levels)


def gex_profile(contracts: pd.DataFrame, config: GexConfig = GexConfig(), *, levels: np.ndarray | None = None,
                max_cells: int = 4_000_000) -> pd.DataFrame:
    """Total GEX re-priced at each spot level (sticky strike), with ex-0DTE / ex-next-expiry / call / put curves.

    One gamma matrix (levels x contracts) per block of levels, reduced by a matrix product with the
    signed OI weights, so there is no Python loop over contracts. ``spot_level`` is in underlying price
    units; every other column is $ per 1 % move at that level except ``gex_shares_per_pt``.
    """
    ok = (contracts["gamma_status"] == "ok").to_numpy()
    c = contracts.loc[ok]
    spot = float(contracts["spot"].iloc[0])
    lv = spot_grid(spot, config) if levels is None else np.asarray(levels, dtype=np.float64)
    k = c["strike"].to_numpy(np.float64)
    t = c["t_years"].to_numpy(np.float64)
    iv = c["iv"].to_numpy(np.float64)
    w = c["dealer_sign"].to_numpy(np.float64) * c["open_interest"].to_numpy(np.float64) * SHARES_PER_CONTRACT
    exp = pd.to_datetime(c["expiration"]).to_numpy()
    next_exp = exp.min() if len(exp) else None
    is_call = (c["option_type"] == "C").to_numpy()
    masks = np.column_stack([
        np.ones(len(c), bool), ~c["is_0dte"].to_numpy(bool), exp != next_exp, is_call, ~is_call,
    ]).astype(np.float64)
    weights = masks * w[:, None]  # contracts x curves

    # Level-independent parts of d1 and gamma, hoisted out of the grid.
    sqrt_t = np.sqrt(t)
    vol_sqrt_t = iv * sqrt_t
    drift = (config.r - config.q + 0.5 * iv * iv) * t
    log_k = np.log(k)
    scale = np.exp(-config.q * t) * INV_SQRT_2PI / vol_sqrt_t

    shares = np.empty((len(lv), weights.shape[1]))
    block = max(1, max_cells // max(1, len(c)))
    for start in range(0, len(lv), block):  # loop over blocks of levels only
        s = lv[start:start + block]
        d1 = (np.log(s)[:, None] - log_k[None, :] + drift[None, :]) / vol_sqrt_t[None, :]
        g = np.exp(-0.5 * d1 * d1) * scale[None, :] / s[:, None]
        shares[start:start + block] = g @ weights
    usd_1pct = shares * (lv * lv * 0.01)[:, None]
    return pd.DataFrame({
        "spot_level": lv, "gex_usd_per_1pct": usd_1pct[:, 0], "gex_ex_0dte_usd_per_1pct": usd_1pct[:, 1],
        "gex_ex_next_expiry_usd_per_1pct": usd_1pct[:, 2], "gex_calls_usd_per_1pct": usd_1pct[:, 3],
        "gex_puts_usd_per_1pct": usd_1pct[:, 4], "gex_shares_per_pt": shares[:, 0],
    })


@dataclass(frozen=True)
class ZeroGamma:
    """Zero-gamma crossings of a profile: the one nearest spot, and all of them."""

    level: float | None
    crossings: tuple[float, ...]

    @property
    def n_crossings(self) -> int:
        return len(self.crossings)


def zero_gamma(levels, values, spot: float) -> ZeroGamma:
    """Every sign change of ``values`` over ``levels`` by linear interpolation; nearest to ``spot`` first."""
    x = np.asarray(levels, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    exact = x[y == 0]
    i = np.flatnonzero(np.sign(y[:-1]) * np.sign(y[1:]) < 0)
    interp = x[i] - y[i] * (x[i + 1] - x[i]) / (y[i + 1] - y[i])
    crossings = np.unique(np.concatenate([exact, interp]))
    if crossings.size == 0:
        return ZeroGamma(None, ())
    nearest = float(crossings[np.argmin(np.abs(crossings - spot))])
    return ZeroGamma(nearest, tuple(float(v) for v in crossings))


# ------------------------------------------------------------------------------------ aggregations

def gex_by_strike(contracts: pd.DataFrame) -> pd.DataFrame:
    """Per strike: call, put and net GEX ($ per 1 % move) and OI (contracts), summed over expiries and roots."""
    c = contracts.assign(
        call_gex_usd_per_1pct=np.where(contracts["option_type"] == "C", contracts["gex_usd_per_1pct"], 0.0),
        put_gex_usd_per_1pct=np.where(contracts["option_type"] == "P", contracts["gex_usd_per_1pct"], 0.0),
        call_open_interest=np.where(contracts["option_type"] == "C", contracts["open_interest"], 0),
        put_open_interest=np.where(contracts["option_type"] == "P", contracts["open_interest"], 0),
    )
    c["call_gex_usd_per_1pct"] = c["call_gex_usd_per_1pct"].fillna(0.0)
    c["put_gex_usd_per_1pct"] = c["put_gex_usd_per_1pct"].fillna(0.0)
    g = c.groupby("strike_thousandths", sort=True).agg(
        strike=("strike", "first"), call_gex_usd_per_1pct=("call_gex_usd_per_1pct", "sum"),
        put_gex_usd_per_1pct=("put_gex_usd_per_1pct", "sum"), call_open_interest=("call_open_interest", "sum"),
        put_open_interest=("put_open_interest", "sum"), net_gex_shares_per_pt=("gex_shares_per_pt", "sum"),
    ).reset_index()
    g["net_gex_usd_per_1pct"] = g["call_gex_usd_per_1pct"] + g["put_gex_usd_per_1pct"]
    return g[["strike", "strike_thousandths", "call_gex_usd_per_1pct", "put_gex_usd_per_1pct", "net_gex_usd_per_1pct",
              "net_gex_shares_per_pt", "call_open_interest", "put_open_interest"]]


def gex_by_expiry(contracts: pd.DataFrame) -> pd.DataFrame:
    """Per expiry: net GEX ($ per 1 % move), gross |GEX| share of the chain, OI, T."""
    c = contracts.assign(abs_gex=contracts["gex_usd_per_1pct"].abs(),
                         call_gex=np.where(contracts["option_type"] == "C", contracts["gex_usd_per_1pct"], 0.0),
                         put_gex=np.where(contracts["option_type"] == "P", contracts["gex_usd_per_1pct"], 0.0))
    c[["call_gex", "put_gex"]] = c[["call_gex", "put_gex"]].fillna(0.0)
    g = c.groupby("expiration", sort=True).agg(
        t_years=("t_years", "first"), business_days_to_expiry=("business_days_to_expiry", "first"),
        is_0dte=("is_0dte", "first"), call_gex_usd_per_1pct=("call_gex", "sum"), put_gex_usd_per_1pct=("put_gex", "sum"),
        net_gex_usd_per_1pct=("gex_usd_per_1pct", "sum"), gross_abs_gex_usd_per_1pct=("abs_gex", "sum"),
        open_interest=("open_interest", "sum"), n_contracts=("option_symbol", "size"),
    ).reset_index()
    total = g["gross_abs_gex_usd_per_1pct"].sum()
    g["share_of_gross_abs_gex"] = g["gross_abs_gex_usd_per_1pct"] / total if total > 0 else np.nan
    return g


@dataclass(frozen=True)
class Walls:
    call_wall_strike: float | None
    call_wall_gex_usd_per_1pct: float | None
    put_wall_strike: float | None
    put_wall_gex_usd_per_1pct: float | None


def walls(by_strike: pd.DataFrame) -> Walls:
    """Call wall = strike with the largest |call GEX|; put wall = strike with the largest |put GEX|."""
    if by_strike.empty:
        return Walls(None, None, None, None)
    ci = int(np.argmax(by_strike["call_gex_usd_per_1pct"].abs().to_numpy()))
    pi = int(np.argmax(by_strike["put_gex_usd_per_1pct"].abs().to_numpy()))
    return Walls(float(by_strike["strike"].iloc[ci]), float(by_strike["call_gex_usd_per_1pct"].iloc[ci]),
                 float(by_strike["strike"].iloc[pi]), float(by_strike["put_gex_usd_per_1pct"].iloc[pi]))


# ------------------------------------------------------------------------------------------- summary

def gex_summary(contracts: pd.DataFrame, profile: pd.DataFrame | None = None,
                config: GexConfig = GexConfig()) -> dict:
    """One row of headline numbers for a chain snapshot; keys carry units."""
    g = contracts["gex_usd_per_1pct"]
    spot = float(contracts["spot"].iloc[0])
    by_strike = gex_by_strike(contracts)
    w = walls(by_strike)
    if profile is None:
        profile = gex_profile(contracts, config)
    zg = zero_gamma(profile["spot_level"], profile["gex_usd_per_1pct"], spot)
    is0 = contracts["is_0dte"].to_numpy(bool)
    next_exp = contracts["expiration"].min()
    unavailable = contracts["gamma_status"] != "ok"
    abs_total = float(g.abs().sum())
    both = contracts["gamma_bs_per_pt"].notna() & (contracts["gamma_source_per_pt"] > 0)
    src_both = float(contracts.loc[both, "gex_source_usd_per_1pct"].abs().sum())
    bs_both = float((contracts.loc[both, "gamma_bs_per_pt"] * contracts.loc[both, "open_interest"]
                     * SHARES_PER_CONTRACT * spot * spot * 0.01).sum())
    total = float(g.sum())
    return {
        "underlying": str(contracts["underlying"].iloc[0]),
        "quote_time": pd.Timestamp(contracts["quote_time"].iloc[0]).to_pydatetime(),
        "spot": spot,
        "n_contracts": int(len(contracts)),
        "n_gamma_unavailable": int(unavailable.sum()),
        "oi_gamma_unavailable_contracts": int(contracts.loc[unavailable, "open_interest"].sum()),
        "total_gex_shares_per_pt": float(contracts["gex_shares_per_pt"].sum()),
        "total_gex_usd_per_pt": float(contracts["gex_usd_per_pt"].sum()),
        "total_gex_usd_per_1pct": total,
        "call_gex_usd_per_1pct": float(g[contracts["option_type"] == "C"].sum()),
        "put_gex_usd_per_1pct": float(g[contracts["option_type"] == "P"].sum()),
        "total_gex_source_shares_per_pt": float(contracts["gex_source_shares_per_pt"].sum()),
        "total_gex_source_usd_per_1pct": float(contracts["gex_source_usd_per_1pct"].sum()),
        "gex_ex_0dte_usd_per_1pct": float(g[~is0].sum()),
        "gex_ex_next_expiry_usd_per_1pct": float(g[contracts["expiration"] != next_exp].sum()),
        "share_0dte_of_gross_abs_gex": float(g[is0].abs().sum() / abs_total) if abs_total > 0 else float("nan"),
        "regime": "positive" if total > 0 else "negative" if total < 0 else "flat",
        "zero_gamma_level": zg.level,
        "zero_gamma_crossings": zg.n_crossings,
        "zero_gamma_all_levels": list(zg.crossings),
        "call_wall_strike": w.call_wall_strike,
        "call_wall_gex_usd_per_1pct": w.call_wall_gex_usd_per_1pct,
        "put_wall_strike": w.put_wall_strike,
        "put_wall_gex_usd_per_1pct": w.put_wall_gex_usd_per_1pct,
        "gamma_bs_vs_source_gross_rel_diff": (bs_both / src_both - 1.0) if src_both > 0 else float("nan"),
        "config": asdict(config),
    }


def compute_gex(chain, config: GexConfig = GexConfig()) -> "GexResult":
    """Convenience: contracts, profile, by-strike, by-expiry and summary in one call."""
    contracts = contract_gex(chain, config)
    profile = gex_profile(contracts, config)
    return GexResult(contracts, profile, gex_by_strike(contracts), gex_by_expiry(contracts),
                     gex_summary(contracts, profile, config))


@dataclass(frozen=True)
class GexResult:
    contracts: pd.DataFrame
    profile: pd.DataFrame
    by_strike: pd.DataFrame
    by_expiry: pd.DataFrame
    summary: dict


# -------------------------------------------------------------------------------------------- checks

@dataclass(frozen=True)
class Finding:
    """Outcome of one data-quality check (wired as a Dagster asset check by the orchestration layer)."""

    check: str
    passed: bool
    severity: Literal["error", "warn"]
    message: str
    metadata: dict = field(default_factory=dict)


def check_sign_convention(chain, config: GexConfig = GexConfig()) -> Finding:
    """Flipping the put sign must change only the put leg: total' = total - 2 x put leg, regime reported."""
    base = contract_gex(chain, config)
    flipped = contract_gex(chain, config.with_put_sign_flipped())
    put = (base["option_type"] == "P").to_numpy()
    t0 = float(base["gex_usd_per_1pct"].sum())
    t1 = float(flipped["gex_usd_per_1pct"].sum())
    put_leg = float(base.loc[put, "gex_usd_per_1pct"].sum())
    call_same = np.allclose(base.loc[~put, "gex_usd_per_1pct"].fillna(0), flipped.loc[~put, "gex_usd_per_1pct"].fillna(0))
    put_negated = np.allclose(base.loc[put, "gex_usd_per_1pct"].fillna(0), -flipped.loc[put, "gex_usd_per_1pct"].fillna(0))
    identity = math.isclose(t1, t0 - 2 * put_leg, rel_tol=1e-9, abs_tol=1e-6 * max(1.0, abs(t0)))
    regime0 = np.sign(t0)
    regime1 = np.sign(t1)
    ok = bool(call_same and put_negated and identity and put_leg * config.put_sign >= 0)
    return Finding("gex_sign_convention", ok, "error",
                   f"total {t0:,.0f} -> {t1:,.0f} $/1% with the put sign flipped; regime "
                   f"{'flips' if regime0 != regime1 else 'does not flip'}",
                   {"total_gex_usd_per_1pct": t0, "total_gex_put_flipped_usd_per_1pct": t1,
                    "put_leg_usd_per_1pct": put_leg, "regime_flips": bool(regime0 != regime1)})


def check_open_interest_non_negative(chain) -> Finding:
    df = _frame(chain)
    neg = df["open_interest"] < 0
    return Finding("options_oi_non_negative", not bool(neg.any()), "error",
                   f"{int(neg.sum())} contracts with negative open interest",
                   {"n_negative": int(neg.sum()),
                    "examples": df.loc[neg, "option_symbol"].head(5).tolist()})


def check_spot_inside_strikes(chain) -> Finding:
    df = _frame(chain)
    spot = float(df["spot"].iloc[0])
    lo, hi = float(df["strike"].min()), float(df["strike"].max())
    ok = lo <= spot <= hi
    return Finding("options_spot_inside_strike_range", ok, "error",
                   f"spot {spot:,.2f} {'inside' if ok else 'outside'} strikes [{lo:,.2f}, {hi:,.2f}]",
                   {"spot": spot, "min_strike": lo, "max_strike": hi})


def check_gex_magnitude(summary: dict, limit_usd_per_1pct: float = SPX_GEX_SANITY_LIMIT_USD_PER_1PCT) -> Finding:
    """|total GEX| below a sanity bound (default $60bn per 1 %, the SPX bound from the anchors)."""
    total = summary["total_gex_usd_per_1pct"]
    ok = math.isfinite(total) and abs(total) < limit_usd_per_1pct
    return Finding("gex_magnitude_sane", ok, "error",
                   f"|total GEX| {abs(total) / 1e9:,.2f}bn $/1% vs limit {limit_usd_per_1pct / 1e9:,.0f}bn",
                   {"total_gex_usd_per_1pct": total, "limit_usd_per_1pct": limit_usd_per_1pct})


def check_gamma_divergence(contracts: pd.DataFrame, threshold: float = 0.05) -> Finding:
    """Recomputed vs published gamma, compared on gross |GEX| where both exist (fails above ``threshold``).

    A warning, not an error: the feed's gamma uses its own T and rates, and the CSV rounds it to
    4 decimals, so single contracts differ a lot while the aggregate should agree. The share of gross
    |GEX| sitting in contracts that individually differ by more than ``threshold`` is reported too.
    """
    both = contracts["gamma_bs_per_pt"].notna() & (contracts["gamma_source_per_pt"] > 0)
    c = contracts.loc[both]
    src = c["gex_source_usd_per_1pct"].abs()
    bs = (c["gamma_bs_per_pt"] * c["open_interest"] * SHARES_PER_CONTRACT * c["spot"] ** 2 * 0.01).abs()
    gross_src, gross_bs = float(src.sum()), float(bs.sum())
    rel = gross_bs / gross_src - 1.0 if gross_src > 0 else 0.0
    share_off = float(src[c["gamma_bs_rel_diff"].abs() > threshold].sum() / gross_src) if gross_src > 0 else 0.0
    ok = abs(rel) <= threshold
    return Finding("gex_gamma_source_vs_recomputed", ok, "warn",
                   f"gross |GEX| from recomputed gamma differs by {rel:+.2%} from published gamma "
                   f"(limit {threshold:.0%}); {share_off:.1%} of it in contracts differing by more than {threshold:.0%}",
                   {"gross_gex_rel_diff": rel, "share_gross_gex_in_diverging_contracts": share_off,
                    "n_compared": int(both.sum()), "threshold": threshold,
                    "n_gamma_unavailable": int((contracts["gamma_status"] != "ok").sum())})


def check_chain_fresh(chain, partition_date: date, max_business_days_after: int = 1,
                      holidays: tuple[date, ...] = ()) -> Finding:
    """The quote must be from the partition's trade date or at most N business days later (New York dates)."""
    df = _frame(chain)
    qt = pd.Timestamp(df["quote_time"].iloc[0]).tz_convert(NEW_YORK)
    qdate = qt.date()
    lag = int(np.busday_count(partition_date, qdate, holidays=np.array(holidays, dtype="datetime64[D]")))
    ok = qdate >= partition_date and lag <= max_business_days_after
    return Finding("options_chain_fresh", ok, "error",
                   f"quote time {qt:%Y-%m-%d %H:%M %Z} is {lag} business day(s) after partition {partition_date}",
                   {"quote_time": qt.isoformat(), "partition_date": partition_date.isoformat(),
                    "business_days_after": lag, "max_business_days_after": max_business_days_after})


def run_checks(chain, partition_date: date, config: GexConfig = GexConfig(),
               result: GexResult | None = None, gex_limit_usd_per_1pct: float | None = None) -> list[Finding]:
    """All option-layer checks for one chain snapshot (the magnitude bound applies to SPX unless given)."""
    result = result or compute_gex(chain, config)
    findings = [check_sign_convention(chain, config), check_open_interest_non_negative(chain),
                check_spot_inside_strikes(chain), check_gamma_divergence(result.contracts),
                check_chain_fresh(chain, partition_date, holidays=config.holidays)]
    if gex_limit_usd_per_1pct is not None or result.summary["underlying"] == "SPX":
        findings.append(check_gex_magnitude(result.summary, gex_limit_usd_per_1pct or SPX_GEX_SANITY_LIMIT_USD_PER_1PCT))
    return findings
