"""Golden GEX numbers on the real Cboe SPX chain (2022-02-05), cross-checked by an independent calculation.

The independent side reads the CSV with the csv module and uses plain float math (no pandas, no
dagster_project code). Golden values below were measured by running the pipeline code on the real
file; the test also asserts they barely move under small perturbations of spot and OI.
"""

from __future__ import annotations

import csv
import math
from datetime import date, datetime, timedelta

import numpy as np
import pytest

from dagster_project import gex
from dagster_project.sources.cboe import parse_quote_table_csv

pytestmark = pytest.mark.realdata

# Measured with dagster_project.gex defaults (busdays/262, r=q=0, 200 levels 0.8-1.2 x S, IV-0 rows excluded).
GOLDEN_ZERO_GAMMA = 4585.18
GOLDEN_CALL_WALL = 4700.0
GOLDEN_PUT_WALL = 4500.0
GOLDEN_TOTAL_SOURCE_USD_PER_1PCT = -19.156e9
GOLDEN_TOTAL_BS_USD_PER_1PCT = -19.044e9


@pytest.fixture(scope="module")
def spx(request):
    from support.realdata import realdata_path

    path = realdata_path("options", "spx_quotedata.csv")
    table = parse_quote_table_csv(path.read_bytes(), str(path))
    return path, table, gex.compute_gex(table)


def _independent(path):
    """Source-gamma and recomputed-gamma totals ($ per 1 %) with csv + math only."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    spot = float(lines[1][1].split(":")[1])
    quote_day = date(2022, 2, 5)
    start = next(i for i, r in enumerate(lines) if r and r[0] == "Expiration Date") + 1
    src = bs = 0.0
    unavailable = 0
    for r in lines[start:]:
        if not r:
            continue
        exp = datetime.strptime(r[0], "%a %b %d %Y").date()
        bdays = sum(1 for n in range((exp - quote_day).days) if (quote_day + timedelta(n)).weekday() < 5)
        t = max(bdays, 1) / 262
        k = float(r[11])
        for sign, iv, g, oi in ((1, r[7], r[9], r[10]), (-1, r[18], r[20], r[21])):
            src += sign * float(g) * int(oi) * 100 * spot * spot * 0.01
            v = float(iv)
            if v <= 0:
                unavailable += 1
                continue
            d1 = (math.log(spot / k) + 0.5 * v * v * t) / (v * math.sqrt(t))
            gamma = math.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi) / (spot * v * math.sqrt(t))
            bs += sign * gamma * int(oi) * 100 * spot * spot * 0.01
    return src, bs, unavailable


def test_totals_equal_independent_calculation(spx):
    path, _, result = spx
    src, bs, unavailable = _independent(path)
    s = result.summary
    assert s["total_gex_source_usd_per_1pct"] == pytest.approx(src, rel=1e-9)
    assert s["total_gex_usd_per_1pct"] == pytest.approx(bs, rel=1e-9)
    assert s["n_gamma_unavailable"] == unavailable == 226
    assert s["total_gex_source_usd_per_1pct"] == pytest.approx(GOLDEN_TOTAL_SOURCE_USD_PER_1PCT, rel=1e-3)
    assert s["total_gex_usd_per_1pct"] == pytest.approx(GOLDEN_TOTAL_BS_USD_PER_1PCT, rel=1e-3)
    assert s["total_gex_usd_per_pt"] * 0.01 * s["spot"] == pytest.approx(s["total_gex_usd_per_1pct"])


def test_golden_zero_gamma_and_walls(spx):
    _, _, result = spx
    s = result.summary
    assert s["zero_gamma_level"] == pytest.approx(GOLDEN_ZERO_GAMMA, abs=0.05)
    assert s["zero_gamma_crossings"] == 1
    assert (s["call_wall_strike"], s["put_wall_strike"]) == (GOLDEN_CALL_WALL, GOLDEN_PUT_WALL)
    assert s["regime"] == "negative" and s["spot"] < s["zero_gamma_level"]
    # the profile at the grid point nearest spot has the sign of the spot total
    prof = result.profile
    i = int(np.argmin(np.abs(prof["spot_level"] - s["spot"])))
    assert np.sign(prof["gex_usd_per_1pct"].iloc[i]) == np.sign(s["total_gex_usd_per_1pct"])


@pytest.mark.parametrize("spot_factor", [0.999, 1.001])
def test_zero_gamma_and_walls_stable_under_spot_moves(spx, spot_factor):
    _, table, _ = spx
    df = table.to_pandas()
    s = gex.compute_gex(df.assign(spot=df["spot"] * spot_factor)).summary
    assert s["zero_gamma_level"] == pytest.approx(GOLDEN_ZERO_GAMMA, abs=2.0)
    assert (s["call_wall_strike"], s["put_wall_strike"]) == (GOLDEN_CALL_WALL, GOLDEN_PUT_WALL)


def test_zero_gamma_stable_under_oi_noise_and_grid(spx):
    _, table, _ = spx
    df = table.to_pandas()
    rng = np.random.default_rng(7)
    noisy = df.assign(open_interest=np.round(df["open_interest"] * rng.uniform(0.98, 1.02, len(df))).astype("int64"))
    s = gex.compute_gex(noisy).summary
    assert s["zero_gamma_level"] == pytest.approx(GOLDEN_ZERO_GAMMA, abs=2.0)
    assert (s["call_wall_strike"], s["put_wall_strike"]) == (GOLDEN_CALL_WALL, GOLDEN_PUT_WALL)
    coarse = gex.compute_gex(df, gex.GexConfig(grid_levels=60)).summary  # Perfiliev's grid
    assert coarse["zero_gamma_level"] == pytest.approx(GOLDEN_ZERO_GAMMA, abs=5.0)
    act = gex.compute_gex(df, gex.GexConfig(time_convention="act365_close")).summary
    assert act["zero_gamma_level"] == pytest.approx(GOLDEN_ZERO_GAMMA, abs=10.0)


def test_checks_on_real_chain(spx):
    _, table, result = spx
    findings = {f.check: f for f in gex.run_checks(table, date(2022, 2, 4), result=result)}
    assert findings["gex_sign_convention"].passed and findings["gex_sign_convention"].metadata["regime_flips"]
    assert findings["options_oi_non_negative"].passed and findings["options_spot_inside_strike_range"].passed
    assert findings["gex_magnitude_sane"].passed
    assert findings["options_chain_fresh"].passed  # Saturday-evening quote for Friday's session
    div = findings["gex_gamma_source_vs_recomputed"]
    assert div.passed and abs(div.metadata["gross_gex_rel_diff"]) < 0.01 and div.metadata["n_gamma_unavailable"] == 226
    stale = gex.run_checks(table, date(2022, 2, 1), result=result)
    assert not {f.check: f for f in stale}["options_chain_fresh"].passed


def test_0dte_iv_zero_rows_on_real_sample(realdata_file):
    """Cboe's 0DTE rows (IV/greeks 0) are excluded from recomputed totals and counted with their OI."""
    path = realdata_file("options", "SilverTurtle1_ShortSaleData", "SPXOptionChainSample-old.csv")
    table = parse_quote_table_csv(path.read_bytes(), str(path))
    result = gex.compute_gex(table)
    c = result.contracts
    zero = c[c["iv"] == 0]
    assert set(zero["expiration"]) == {date(2022, 12, 12)} and (zero["gamma_status"] == "iv_unavailable").all()
    assert result.summary["n_gamma_unavailable"] == len(zero) == 12
    with open(path, newline="") as fh:
        independent_oi = sum(int(r[10]) + int(r[21]) for r in csv.reader(fh) if r and r[0] == "Mon Dec 12 2022")
    assert result.summary["oi_gamma_unavailable_contracts"] == int(zero["open_interest"].sum()) == independent_oi
    assert zero["gex_usd_per_1pct"].isna().all() and (zero["gex_source_usd_per_1pct"] == 0).all()
    # the rest of the chain is identical to the sample without the 0DTE expiry
    other = realdata_file("options", "SilverTurtle1_ShortSaleData", "SPXOptionChainSample.csv")
    rest = gex.compute_gex(parse_quote_table_csv(other.read_bytes(), str(other))).summary
    assert result.summary["total_gex_usd_per_1pct"] == pytest.approx(rest["total_gex_usd_per_1pct"], rel=1e-12)
