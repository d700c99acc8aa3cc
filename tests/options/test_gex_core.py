"""GEX core on hand-built chains: BS gamma, time conventions, units, signs, IV-0 policy, profile, zero gamma, checks."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from dagster_project import gex
from dagster_project.gex import GexConfig, bs_gamma, contract_gex, gex_profile, zero_gamma

NY = ZoneInfo("America/New_York")
QT = datetime(2024, 3, 14, 15, 0, tzinfo=NY)  # Thursday


def chain(rows, spot=100.0, quote_time=QT):
    """rows: (type, strike, expiry, iv, oi, source_gamma)."""
    df = pd.DataFrame(rows, columns=["option_type", "strike", "expiration", "iv", "open_interest", "gamma"])
    df["underlying"] = "TST"
    df["root"] = "TST"
    df["strike_thousandths"] = (df["strike"] * 1000).round().astype("int64")
    df["option_symbol"] = [f"TST{e:%y%m%d}{t}{k:08d}" for t, e, k in
                           zip(df["option_type"], df["expiration"], df["strike_thousandths"])]
    df["spot"] = spot
    df["quote_time"] = pd.Timestamp(quote_time).tz_convert("UTC")
    df["open_interest"] = df["open_interest"].astype("int64")
    return df


def test_bs_gamma_matches_finite_difference_and_put_identity():
    s, k, t, v, r, q = 100.0, 95.0, 0.3, 0.25, 0.03, 0.01
    def delta(spot):
        d1 = (math.log(spot / k) + (r - q + v * v / 2) * t) / (v * math.sqrt(t))
        return math.exp(-q * t) * norm.cdf(d1)
    h = 1e-3
    fd = (delta(s + h) - delta(s - h)) / (2 * h)
    g = float(bs_gamma(s, k, t, v, r, q))
    assert g == pytest.approx(fd, rel=1e-6)
    d2 = (math.log(s / k) + (r - q - v * v / 2) * t) / (v * math.sqrt(t))
    assert g == pytest.approx(k * math.exp(-r * t) * norm.pdf(d2) / (s * s * v * math.sqrt(t)), rel=1e-10)
    assert np.isnan(bs_gamma(100, 100, 0.1, 0.0)) and np.isnan(bs_gamma(100, 100, 0.0, 0.2))


def test_time_conventions():
    exp = np.array(["2024-03-14", "2024-03-15", "2024-03-18", "2024-12-20"], dtype="datetime64[D]")
    t, bd, expired = gex.time_to_expiry(exp, QT, GexConfig())
    assert bd.tolist() == [0, 1, 2, int(np.busday_count("2024-03-14", "2024-12-20"))]
    assert t[:3].tolist() == pytest.approx([1 / 262, 1 / 262, 2 / 262])  # same-day floored at 1/262
    assert not expired.any()
    t2, _, expired2 = gex.time_to_expiry(exp, QT, GexConfig(time_convention="act365_close"))
    assert t2[0] == pytest.approx(3600 / (365 * 86400))  # one hour to 16:00 ET
    assert t2[1] == pytest.approx(25 * 3600 / (365 * 86400))
    # across the November DST change: 16:00 EST is 21:00 UTC
    nov = np.array(["2024-11-04"], dtype="datetime64[D]")
    t3, _, _ = gex.time_to_expiry(nov, datetime(2024, 11, 1, 16, 0, tzinfo=NY), GexConfig(time_convention="act365_close"))
    assert t3[0] * 365 * 24 == pytest.approx(72 + 1)  # Fri 16:00 EDT -> Mon 16:00 EST is 73 hours
    late = datetime(2024, 3, 14, 18, 0, tzinfo=NY)
    t4, _, expired4 = gex.time_to_expiry(exp[:1], late, GexConfig(time_convention="act365_close"))
    assert expired4.tolist() == [True] and t4[0] == pytest.approx(1 / (365 * 24))


def test_units_and_signs_by_hand():
    e = date(2024, 3, 22)
    df = contract_gex(chain([("C", 100, e, 0.2, 10, 0.05), ("P", 100, e, 0.2, 4, 0.05)]))
    t = 6 / 262
    g = float(bs_gamma(100.0, 100.0, t, 0.2))
    assert df["t_years"].tolist() == pytest.approx([t, t])
    assert df["gamma_bs_per_pt"].tolist() == pytest.approx([g, g])
    assert df["gex_shares_per_pt"].tolist() == pytest.approx([g * 10 * 100, -g * 4 * 100])
    assert df["gex_usd_per_pt"].tolist() == pytest.approx([g * 1000 * 100, -g * 400 * 100])
    assert df["gex_usd_per_1pct"].tolist() == pytest.approx([g * 1000 * 100 * 100 * 0.01, -g * 400 * 100])
    assert df["gex_source_usd_per_1pct"].tolist() == pytest.approx([0.05 * 1000 * 100, -0.05 * 400 * 100])
    assert df["gamma_bs_rel_diff"].tolist() == pytest.approx([g / 0.05 - 1] * 2)
    flipped = contract_gex(chain([("C", 100, e, 0.2, 10, 0.05), ("P", 100, e, 0.2, 4, 0.05)]),
                           GexConfig(put_sign=1.0))
    assert flipped["gex_shares_per_pt"].tolist() == pytest.approx([g * 1000, g * 400])


def put_heavy_chain():
    e1, e2 = date(2024, 3, 14), date(2024, 4, 19)
    rows = []
    for k in range(80, 125, 5):
        rows += [("C", k, e2, 0.2, 100 if k >= 100 else 10, 0.01), ("P", k, e2, 0.25, 300 if k <= 100 else 10, 0.01),
                 ("C", k, e1, 0.0, 50, 0.0), ("P", k, e1, 0.0, 50, 0.0)]  # 0DTE rows without IV
    return chain(rows)


def test_sign_check_flips_regime():
    ch = put_heavy_chain()
    f = gex.check_sign_convention(ch)
    assert f.passed and f.metadata["regime_flips"]
    assert f.metadata["total_gex_usd_per_1pct"] < 0 < f.metadata["total_gex_put_flipped_usd_per_1pct"]


def test_iv_unavailable_policy_exclude_vs_source_gamma():
    ch = put_heavy_chain()
    ch.loc[ch["iv"] == 0, "gamma"] = 0.02  # pretend the feed published a gamma for them
    excl = contract_gex(ch)
    usable = excl["gamma_status"] == "ok"
    assert (excl.loc[~usable, "gamma_status"] == "iv_unavailable").all() and (~usable).sum() == 18
    assert excl.loc[~usable, "gex_usd_per_1pct"].isna().all()
    s = gex.gex_summary(excl)
    assert s["n_gamma_unavailable"] == 18 and s["oi_gamma_unavailable_contracts"] == 18 * 50
    assert s["total_gex_usd_per_1pct"] == pytest.approx(excl.loc[usable, "gex_usd_per_1pct"].sum())
    assert s["total_gex_source_usd_per_1pct"] == pytest.approx(excl["gex_source_usd_per_1pct"].sum())
    cfg = GexConfig(iv_unavailable="source_gamma")
    src = contract_gex(ch, cfg)
    s2 = gex.gex_summary(src, config=cfg)
    fallback = (0.02 * 50 * 100 * 100 * 100 * 0.01) * (9 - 9)  # 9 calls (+) and 9 puts (-) cancel
    assert s2["total_gex_usd_per_1pct"] == pytest.approx(s["total_gex_usd_per_1pct"] + fallback)
    assert src.loc[~usable, "gex_usd_per_1pct"].abs().sum() == pytest.approx(18 * 0.02 * 50 * 100 * 100)
    # the profile cannot re-price without a vol: identical under both policies
    pd.testing.assert_frame_equal(gex_profile(excl), gex_profile(src, cfg))


def test_profile_matches_per_contract_reference_and_spot_total():
    ch = put_heavy_chain()
    c = contract_gex(ch)
    levels = np.array([90.0, 100.0, 111.0])
    prof = gex_profile(c, levels=levels, max_cells=7)  # tiny blocks exercise the chunking
    ok = c[c["gamma_status"] == "ok"]
    for s, got in zip(levels, prof["gex_usd_per_1pct"]):
        ref = sum(sg * oi * 100 * float(bs_gamma(s, k, t, v)) * s * s * 0.01
                  for sg, oi, k, t, v in zip(ok["dealer_sign"], ok["open_interest"], ok["strike"], ok["t_years"], ok["iv"]))
        assert got == pytest.approx(ref, rel=1e-12)
    at_spot = gex_profile(c, levels=np.array([100.0]))
    assert at_spot["gex_usd_per_1pct"].iloc[0] == pytest.approx(c["gex_usd_per_1pct"].sum())
    row = prof.iloc[1]
    assert row["gex_calls_usd_per_1pct"] + row["gex_puts_usd_per_1pct"] == pytest.approx(row["gex_usd_per_1pct"])
    assert row["gex_shares_per_pt"] * 100 * 100 * 0.01 == pytest.approx(row["gex_usd_per_1pct"])
    default = gex_profile(c)
    assert len(default) == 200 and default["spot_level"].iloc[0] == pytest.approx(80) and default["spot_level"].iloc[-1] == pytest.approx(120)


def test_ex_0dte_and_ex_next_expiry_curves():
    e0, e1, e2 = date(2024, 3, 14), date(2024, 3, 15), date(2024, 4, 19)
    ch = chain([("C", 100, e0, 0.2, 100, 0.01), ("C", 100, e1, 0.2, 100, 0.01), ("P", 95, e2, 0.2, 100, 0.01)])
    c = contract_gex(ch)
    assert c["is_0dte"].tolist() == [True, False, False]
    lv = np.array([100.0])
    p = gex_profile(c, levels=lv).iloc[0]
    g = c["gex_usd_per_1pct"].to_numpy()
    assert p["gex_ex_0dte_usd_per_1pct"] == pytest.approx(g[1] + g[2])
    assert p["gex_ex_next_expiry_usd_per_1pct"] == pytest.approx(g[1] + g[2])
    s = gex.gex_summary(c)
    assert s["share_0dte_of_gross_abs_gex"] == pytest.approx(abs(g[0]) / np.abs(g).sum())


def test_zero_gamma_all_crossings_nearest_and_none():
    x = np.arange(0.0, 10.0)
    y = np.array([3, 1, -1, -2, -1, 1, 2, 0, -1, -3], dtype=float)
    zg = zero_gamma(x, y, spot=4.2)
    assert zg.crossings == pytest.approx((1.5, 4.5, 7.0)) and zg.n_crossings == 3 and zg.level == pytest.approx(4.5)
    assert zero_gamma(x, y, spot=9).level == pytest.approx(7.0)
    none = zero_gamma(x, np.ones(10), spot=5)
    assert none.level is None and none.n_crossings == 0


def test_walls_and_aggregates():
    e = date(2024, 4, 19)
    ch = chain([("C", 105, e, 0.2, 1000, 0.01), ("C", 110, e, 0.2, 500, 0.01), ("P", 95, e, 0.2, 2000, 0.01),
                ("P", 90, e, 0.2, 100, 0.01), ("C", 95, e, 0.2, 1, 0.01)])
    c = contract_gex(ch)
    bs = gex.gex_by_strike(c)
    w = gex.walls(bs)
    assert (w.call_wall_strike, w.put_wall_strike) == (105.0, 95.0)
    assert w.put_wall_gex_usd_per_1pct < 0 < w.call_wall_gex_usd_per_1pct
    assert bs["net_gex_usd_per_1pct"].sum() == pytest.approx(c["gex_usd_per_1pct"].sum())
    assert bs.set_index("strike").loc[95.0, ["call_open_interest", "put_open_interest"]].tolist() == [1, 2000]
    be = gex.gex_by_expiry(c)
    assert be["share_of_gross_abs_gex"].sum() == pytest.approx(1.0) and be["open_interest"].sum() == 3601


def test_checks_fail_on_bad_inputs():
    e = date(2024, 4, 19)
    good = chain([("C", 95, e, 0.2, 10, 0.01), ("P", 105, e, 0.2, 10, 0.01)])
    assert gex.check_open_interest_non_negative(good).passed
    bad = good.copy()
    bad.loc[0, "open_interest"] = -5
    f = gex.check_open_interest_non_negative(bad)
    assert not f.passed and f.metadata["examples"] == [bad.loc[0, "option_symbol"]]
    assert gex.check_spot_inside_strikes(good).passed
    assert not gex.check_spot_inside_strikes(good.assign(spot=120.0)).passed
    assert gex.check_gex_magnitude({"total_gex_usd_per_1pct": -59e9}).passed
    assert not gex.check_gex_magnitude({"total_gex_usd_per_1pct": 61e9}).passed
    assert not gex.check_gex_magnitude({"total_gex_usd_per_1pct": float("nan")}).passed
    assert gex.check_chain_fresh(good, date(2024, 3, 14)).passed
    assert gex.check_chain_fresh(good, date(2024, 3, 13)).passed  # next-morning snapshot
    assert not gex.check_chain_fresh(good, date(2024, 3, 11)).passed  # 3 business days old
    assert not gex.check_chain_fresh(good, date(2024, 3, 15)).passed  # quote before the partition
    c = contract_gex(good)
    c_src = c.assign(gamma_source_per_pt=c["gamma_bs_per_pt"], gamma_bs_rel_diff=0.0,
                     gex_source_usd_per_1pct=c["gex_usd_per_1pct"])
    assert gex.check_gamma_divergence(c_src).passed
    skewed = c_src.assign(gamma_source_per_pt=c_src["gamma_source_per_pt"] * 1.5,
                          gex_source_usd_per_1pct=c_src["gex_source_usd_per_1pct"] * 1.5, gamma_bs_rel_diff=1 / 1.5 - 1)
    f = gex.check_gamma_divergence(skewed)
    assert not f.passed and f.severity == "warn" and f.metadata["gross_gex_rel_diff"] == pytest.approx(1 / 1.5 - 1)


def test_config_validation():
    with pytest.raises(ValueError):
        GexConfig(time_convention="act360")
    with pytest.raises(ValueError):
        GexConfig(grid_low=1.1)
    with pytest.raises(ValueError):
        GexConfig(iv_unavailable="guess")
    assert replace(GexConfig(), put_sign=1.0).with_put_sign_flipped().put_sign == -1.0
