"""`make bench-quick` in CI: the harness's quick profile runs every workload and the implementations agree. It reports
timings (BENCHMARKS.md); it asserts none."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root holds the benchmarks package

from benchmarks.finra_weekly_bench import format_markdown, run  # noqa: E402


def test_bench_quick_reports_every_workload_and_the_tables_agree(tmp_path):
    report = run("quick", workdir=tmp_path / "bench")
    markdown = format_markdown(report)

    for workload in ("1. backfill end to end", "1. backfill peak RSS", "1. mart-building step alone", "venue-share table: the pipeline's model vs naive pandas",
                     "whole pipeline vs naive pandas on the raw JSON",
                     "2. one new partition", "3. GEX profile", "4. BI: top venues over all weeks",
                     "4. BI: a symbol's weekly off-exchange trend", "4. BI: latest complete week's venue ranks"):
        assert workload in markdown
    agreement = report["agreement"]
    assert set(agreement["tables"]) == {"pipeline", "floor_parquet", "floor_json", "naive_pandas", "naive_pandas_lake"}
    assert agreement["agree"], agreement
    pipeline = agreement["tables"]["pipeline"]
    assert pipeline["rows"] > 0
    for name, table in agreement["tables"].items():
        assert table["rows"] == pipeline["rows"], name
        assert table["trade_count"] == pipeline["trade_count"], name
        assert abs(table["share_quantity"] - pipeline["share_quantity"]) <= 1e-3, name
    assert report["generate"]["rows"] > 0 and report["incremental"]["partition"].endswith("T1")
    assert report["gex"]["result"]["max_rel_diff_vs_reference"] < 1e-6
