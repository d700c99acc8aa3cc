"""Benchmark: vectorized GEX profile vs a per-row reference, side by side on one synthetic SPX-size chain.

The reference is the pattern the Perfiliev-style scripts use: for each spot level, ``DataFrame.apply``
computes Black-Scholes gamma contract by contract. It is slow, so by default it runs on a few levels
and its time is extrapolated linearly to the full grid (the per-level cost is constant); the output
says so. Both sides are checked to agree on the levels the reference ran.

    .venv/bin/python benchmarks/gex_profile.py [--levels 200] [--reference-levels 4] [--seed 0]
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from datetime import date

import numpy as np
import pandas as pd

from dagster_project.gex import GexConfig, contract_gex, gex_profile, spot_grid
from dagster_project.sources.cboe import parse_delayed_quotes_json
from dagster_project.synthetic.options import chain_json_bytes, generate_chain


def _reference_profile(contracts: pd.DataFrame, levels: np.ndarray) -> np.ndarray:
    """Per-row reference: BS gamma per contract per level via DataFrame.apply ($ per 1 % move)."""
    c = contracts[contracts["gamma_status"] == "ok"]

    def gamma_row(row, s):
        vst = row["iv"] * math.sqrt(row["t_years"])
        d1 = (math.log(s / row["strike"]) + 0.5 * row["iv"] ** 2 * row["t_years"]) / vst
        return math.exp(-0.5 * d1 * d1) / math.sqrt(2 * math.pi) / (s * vst)

    out = []
    for s in levels:
        g = c.apply(gamma_row, axis=1, args=(s,))
        out.append(float((g * c["dealer_sign"] * c["open_interest"] * 100).sum() * s * s * 0.01))
    return np.array(out)


def run(levels: int = 200, reference_levels: int = 4, seed: int = 0, trade_date: date = date(2024, 3, 14),
        underlying: str = "SPX", repeats: int = 3) -> dict:
    """Time both implementations on the same chain; returns the measurements (seconds, ratio, sizes)."""
    frame, env = generate_chain(underlying, trade_date, seed=seed)
    chain = parse_delayed_quotes_json(chain_json_bytes(frame, env), f"synthetic {underlying} {trade_date}")
    config = GexConfig(grid_levels=levels)
    contracts = contract_gex(chain, config)
    grid = spot_grid(float(contracts["spot"].iloc[0]), config)

    vec_times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        profile = gex_profile(contracts, config)
        vec_times.append(time.perf_counter() - t0)
    vec_s = min(vec_times)

    ref_levels = grid[np.linspace(0, len(grid) - 1, max(1, min(reference_levels, len(grid)))).round().astype(int)]
    t0 = time.perf_counter()
    ref = _reference_profile(contracts, ref_levels)
    ref_measured_s = time.perf_counter() - t0
    ref_full_s = ref_measured_s * len(grid) / len(ref_levels)
    vec_at_ref = np.interp(ref_levels, profile["spot_level"], profile["gex_usd_per_1pct"])
    max_rel_err = float(np.max(np.abs(ref - vec_at_ref) / np.maximum(np.abs(ref), 1.0)))
    return {
        "underlying": underlying, "trade_date": trade_date.isoformat(), "seed": seed,
        "contracts": int(len(contracts)), "contracts_repriced": int((contracts["gamma_status"] == "ok").sum()),
        "levels": int(len(grid)), "vectorized_s": vec_s, "reference_levels_measured": int(len(ref_levels)),
        "reference_measured_s": ref_measured_s, "reference_full_grid_s_extrapolated": ref_full_s,
        "reference_extrapolated": len(ref_levels) < len(grid), "speedup_ratio": ref_full_s / vec_s,
        "max_rel_diff_vs_reference": max_rel_err, "python": platform.python_version(),
        "numpy": np.__version__, "pandas": pd.__version__, "machine": platform.machine(),
    }


def format_markdown(result: dict) -> str:
    """A BENCHMARKS.md section for one run."""
    extrap = (f"measured on {result['reference_levels_measured']} levels and extrapolated linearly to "
              f"{result['levels']}" if result["reference_extrapolated"] else "measured on the full grid")
    return "\n".join([
        f"### GEX profile: vectorized vs per-row reference ({result['underlying']}, synthetic {result['trade_date']})",
        "",
        f"- chain: {result['contracts']:,} contracts ({result['contracts_repriced']:,} re-priced), "
        f"{result['levels']} spot levels (0.8-1.2 x spot, sticky strike)",
        f"- vectorized (`gex.gex_profile`, best of runs): {result['vectorized_s']:.3f} s",
        f"- per-row reference (`DataFrame.apply` per level): {result['reference_full_grid_s_extrapolated']:.1f} s "
        f"({extrap}; {result['reference_measured_s']:.1f} s measured)",
        f"- **speed-up: {result['speedup_ratio']:,.0f}x**; max relative difference on the shared levels "
        f"{result['max_rel_diff_vs_reference']:.1e}",
        f"- Python {result['python']}, NumPy {result['numpy']}, pandas {result['pandas']}, {result['machine']}",
        "",
    ])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, default=200)
    parser.add_argument("--reference-levels", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    result = run(levels=args.levels, reference_levels=args.reference_levels, seed=args.seed)
    print(format_markdown(result))
    note = " (reference extrapolated from the measured levels)" if result["reference_extrapolated"] else ""
    print(f"ratio reference/vectorized: {result['speedup_ratio']:,.1f}x{note}")
    return result


if __name__ == "__main__":
    main()
