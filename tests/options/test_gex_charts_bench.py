"""GEX charts render to PNG bytes; the benchmark runs (tiny sizes here) and reports a ratio."""

from __future__ import annotations

import importlib.util
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from dagster_project import gex
from dagster_project.charts import render_gex_by_strike_png, render_gex_profile_png
from dagster_project.sources.cboe import parse_delayed_quotes_json
from dagster_project.synthetic.options import chain_json_bytes, generate_chain

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def result():
    frame, env = generate_chain("SPY", date(2024, 3, 14))
    return gex.compute_gex(parse_delayed_quotes_json(chain_json_bytes(frame, env), "SPY.json"))


def test_profile_png(result):
    s, p = result.summary, result.profile
    png = render_gex_profile_png(p["spot_level"], p["gex_usd_per_1pct"], spot=s["spot"],
                                 zero_gamma=s["zero_gamma_level"], call_wall=s["call_wall_strike"],
                                 put_wall=s["put_wall_strike"], extra_curves={"ex 0DTE": p["gex_ex_0dte_usd_per_1pct"]})
    assert png.startswith(PNG) and len(png) > 10_000
    bare = render_gex_profile_png(np.linspace(1, 2, 5), np.zeros(5), spot=1.5)
    assert bare.startswith(PNG)


def test_by_strike_png(result):
    b, s = result.by_strike, result.summary
    png = render_gex_by_strike_png(b["strike"], b["call_gex_usd_per_1pct"], b["put_gex_usd_per_1pct"], spot=s["spot"],
                                   call_wall=s["call_wall_strike"], put_wall=s["put_wall_strike"])
    assert png.startswith(PNG) and len(png) > 10_000


def test_benchmark_small_run():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "gex_profile.py"
    spec = importlib.util.spec_from_file_location("bench_gex_profile", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    r = bench.run(levels=20, reference_levels=2, underlying="QQQ", repeats=1)
    assert r["levels"] == 20 and r["reference_levels_measured"] == 2 and r["reference_extrapolated"]
    assert r["max_rel_diff_vs_reference"] < 1e-9 and r["speedup_ratio"] > 1
    md = bench.format_markdown(r)
    assert "speed-up" in md and "extrapolated" in md
