"""Synthetic option source: determinism, SPX size, realism the GEX code depends on, replay layout."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from dagster_project import gex
from dagster_project.sources.cboe import parse_delayed_quotes_json
from dagster_project.sources.transport import ReplayFetcher
from dagster_project.sources import cboe, occ
from dagster_project.synthetic.options import DEFAULT_UNDERLYINGS, chain_json_bytes, generate_chain, third_friday, write_replay

D = date(2024, 3, 14)


@pytest.fixture(scope="module")
def spx():
    frame, env = generate_chain("SPX", D, seed=0)
    table = parse_delayed_quotes_json(chain_json_bytes(frame, env), "synthetic _SPX.json")
    return frame, env, table.to_pandas()


def test_deterministic_by_seed():
    a = chain_json_bytes(*generate_chain("QQQ", D, seed=11))
    assert a == chain_json_bytes(*generate_chain("QQQ", D, seed=11))
    assert a != chain_json_bytes(*generate_chain("QQQ", D, seed=12))
    assert generate_chain("QQQ", D, seed=11)[1]["spot"] != generate_chain("QQQ", date(2024, 3, 15), seed=11)[1]["spot"]


def test_spx_size_expiries_and_roots(spx):
    _, env, df = spx
    assert 26_000 <= len(df) <= 32_000  # a full SPX chain is ~28k contracts
    exps = sorted(df["expiration"].unique())
    assert exps[0] == D  # 0DTE present
    tf = third_friday(2024, 3)
    assert set(df.loc[df["expiration"] == tf, "root"]) == {"SPX", "SPXW"}
    assert tf == date(2024, 3, 15) and set(df.loc[df["expiration"] == date(2024, 3, 18), "root"]) == {"SPXW"}
    assert max(exps) >= date(2028, 12, 1)
    assert df["strike"].min() < 0.5 * env["spot"] < 1.5 * env["spot"] < df["strike"].max()


def test_skew_round_strike_oi_and_zero_greeks(spx):
    _, env, df = spx
    s = env["spot"]
    month = df[(df["expiration"] == third_friday(2024, 4)) & (df["option_type"] == "P")]
    low = month.loc[(month["strike"] / s - 0.9).abs().idxmin(), "iv"]
    high = month.loc[(month["strike"] / s - 1.1).abs().idxmin(), "iv"]
    assert low > high + 0.03  # put skew
    near = df[(df["strike"] / s - 1).abs() < 0.05]
    on_100 = near[near["strike_thousandths"] % 100_000 == 0]["open_interest"].mean()
    off = near[near["strike_thousandths"] % 25_000 != 0]["open_interest"].mean()
    assert on_100 > 3 * off
    z = df[(df["expiration"] == D) & (df["iv"] == 0)]
    assert len(z) > 10 and (z["gamma"] == 0).all()
    assert (df.loc[df["expiration"] > D, "iv"] > 0).all()


def test_spx_gex_is_plausible(spx):
    _, _, df = spx
    r = gex.compute_gex(df)
    s = r.summary
    assert abs(s["total_gex_usd_per_1pct"]) < 60e9 and s["zero_gamma_crossings"] >= 1
    assert 0.8 * s["spot"] < s["zero_gamma_level"] < 1.2 * s["spot"]
    assert s["n_gamma_unavailable"] > 0
    assert all(f.passed for f in gex.run_checks(df, D, result=r))


def test_write_replay_layout_any_underlying(tmp_path):
    paths = write_replay(tmp_path, D, ("IWM",), seed=2)
    rel = sorted(str(p.relative_to(tmp_path)) for p in paths)
    assert rel == ["cboe/api/global/delayed_quotes/options/IWM.json",
                   "occ/series-search@symbol=IWM&symbolType=U",
                   "occ/volume-query@accountType=ALL&format=csv&porc=BOTH&productKind=ALL&reportDate=20240314"
                   "&reportType=D&symbol=IWM&symbolType=U&volumeQueryType=O"]
    _, t = cboe.load_delayed_quotes(ReplayFetcher("CBOE", tmp_path), "IWM")
    assert t.num_rows > 500 and set(t.column("underlying").to_pylist()) == {"IWM"}
    _, v = occ.load_volume_query(ReplayFetcher("OCC", tmp_path), D, "IWM")
    assert v.num_rows > 0
    assert DEFAULT_UNDERLYINGS == ("SPX", "NDX", "SPY", "QQQ")
