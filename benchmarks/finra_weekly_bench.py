"""Benchmark dealerflow at realistic scale: the real pipeline side by side with the floor and a naive peer.

    .venv/bin/python -m benchmarks.finra_weekly_bench --profile quick|quick-full|full [--weeks N] [--scale S]

Workloads (each measured in its own child process: wall time and peak RSS of its process tree):
  1. FINRA weekly backfill, weeks x 3 tiers: the real Dagster job (replay fetch -> parse -> land -> checks ->
     dbt build -> BI snapshot), the mart-building step alone (dbt build over the landed lake), the floor
     (DuckDB alone computing venue_share_weekly from the lake Parquet and from the raw JSON pages) and a
     naive pandas peer; the four tables are cross-checked before any ratio is reported.
  2. One new (week, tier) partition through the marts, incremental, including Dagster and dbt start-up.
  3. GEX profile on a synthetic SPX-size chain vs the per-row reference (benchmarks/gex_profile.py).
  4. The BI query set on the published snapshot: warm latency.
Upstream pages are generated first (not counted in the pipeline's time; reported separately). The run
reports and appends to BENCHMARKS.md; it never asserts timings (targets are shown as hit/miss).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from benchmarks import venue_share

REPO = Path(__file__).resolve().parent.parent
DBT_TARGET = REPO / "dbt" / "target"
TIERS = ["T1", "T2", "OTCE"]
#: WeeklyConfig scale giving ~150k rows per (week, tier) on average over the three tiers (T1 ~57k, T2/OTCE ~197k).
REALISTIC_SCALE = 1.14


@dataclass(frozen=True)
class Profile:
    weeks: int
    scale: float
    gex_reference_levels: int
    bi_repeats: int


PROFILES = {
    "quick": Profile(weeks=2, scale=0.25, gex_reference_levels=2, bi_repeats=20),
    "quick-full": Profile(weeks=52, scale=REALISTIC_SCALE, gex_reference_levels=4, bi_repeats=30),
    "full": Profile(weeks=208, scale=REALISTIC_SCALE, gex_reference_levels=4, bi_repeats=30),
}


# -- machine facts ----------------------------------------------------------------------------------
def machine_facts() -> dict:
    from importlib.metadata import version

    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines() if ":" in line)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    versions = {name: version(name) for name in ("duckdb", "dbt-core", "dbt-duckdb", "dagster", "dagster-dbt",
                                                 "pandas", "pyarrow", "great-expectations")}
    return {"cores": os.cpu_count(), "memory_gb": int(meminfo["MemTotal"].split()[0]) / 1024 / 1024, "cpu": cpu,
            "kernel": platform.release(), "python": platform.python_version(), "versions": versions,
            "load_average_at_start": os.getloadavg()}


# -- child processes ----------------------------------------------------------------------------------
def run_child(name: str, args: dict, workdir: Path) -> dict:
    """Run one workload in a child process; wall time and peak RSS of its process tree (dbt included)."""
    args_path = workdir / f"{name}-{time.monotonic_ns()}.args.json"
    result_path = args_path.with_suffix(".result.json")
    args_path.write_text(json.dumps(args, default=str))
    env = {**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
           "DO_NOT_TRACK": "1", "GX_ANALYTICS_ENABLED": "False", "PYTHONPATH": str(REPO)}
    log = (workdir / f"{name}.log").open("ab")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "benchmarks._workload", name, str(args_path), str(result_path)],
                            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    log.close()
    if proc.returncode != 0 or not result_path.is_file():
        tail = (workdir / f"{name}.log").read_text(errors="replace")[-3000:]
        raise RuntimeError(f"benchmark workload {name} failed (exit {proc.returncode}); log tail:\n{tail}")
    out = json.loads(result_path.read_text())
    out["wall_s"] = wall
    out["peak_rss_mb"] = usage.ru_maxrss / 1024  # the largest process of the tree (Python or dbt)
    return out


def dbt_timings(since: float, match, home: Path) -> dict:
    """Seconds dbt spent on models vs tests in the newest matching run_results.json written after ``since``.

    Dagster runs write dbt artifacts under ``<home>/dbt/target/<run>``; ``dealerflow build`` under dbt/target."""
    found = [*(home / "dbt" / "target").glob("*/run_results.json"), *DBT_TARGET.glob("*/run_results.json")]
    candidates = sorted((p for p in found if p.stat().st_mtime >= since), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in candidates:
        results = json.loads(path.read_text())
        if not match(path, results.get("args", {})):
            continue
        out = {"models_s": 0.0, "tests_s": 0.0, "dbt_elapsed_s": results.get("elapsed_time") or 0.0, "slowest": [],
               "nodes": {}}
        timed = []
        for r in results.get("results", []):
            seconds = r.get("execution_time") or 0.0
            out["models_s" if r["unique_id"].startswith("model.") else "tests_s"] += seconds
            timed.append((seconds, r["unique_id"].split(".")[2]))
            out["nodes"][r["unique_id"].split(".")[2]] = seconds
        out["slowest"] = [[name[:60], round(s, 2)] for s, name in sorted(timed, reverse=True)[:4]]
        return out
    return {}


def _dagster_finra_weekly(path: Path, args: dict) -> bool:
    """A Dagster run's FINRA weekly dbt step (target folder ``<run id>-finra_weekly_dbt``; its window is in the
    environment, not in dbt's args)."""
    return path.parent.name.endswith("-finra_weekly_dbt")


def _build_all(path: Path, args: dict) -> bool:
    """``dealerflow build`` of every landed tag (no window: it covers everything)."""
    return not args.get("vars") and "tag:finra_weekly" in " ".join(args.get("select") or [])


# -- the run ----------------------------------------------------------------------------------------
def last_published_week(today: date) -> date:
    """A Monday whose three tiers are all published, with one more Tier 1 week published after it."""
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=7 * 7)


def _generate(replay_dir: Path, start: date, end: date, tiers: list[str], scale: float, workdir: Path,
              jobs: int) -> dict:
    """Write upstream pages with ``jobs`` parallel children (weeks split into contiguous blocks).

    A replay folder already generated with the same parameters (``generated.json`` beside it) is reused: the
    pages are deterministic, and a 208-week run spends ~10 min writing them."""
    marker = replay_dir.parent / "generated.json"
    params = {"start": start.isoformat(), "end": end.isoformat(), "tiers": list(tiers), "scale": scale}
    if marker.is_file() and json.loads(marker.read_text())["params"] == params:
        return {**json.loads(marker.read_text())["facts"], "reused": True}
    shutil.rmtree(replay_dir, ignore_errors=True)
    weeks = (end - start).days // 7 + 1
    jobs = max(1, min(jobs, weeks))
    blocks, first = [], start
    for i in range(jobs):
        n = weeks // jobs + (1 if i < weeks % jobs else 0)
        blocks.append((first, first + timedelta(days=7 * (n - 1))))
        first += timedelta(days=7 * n)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(lambda b: run_child("generate", {"replay_dir": str(replay_dir), "start": b[0],
                                                                  "end": b[1], "tiers": tiers, "scale": scale}, workdir),
                                blocks))
    rows = sum(r["result"]["rows"] for r in results)
    partitions = sum(r["result"]["partitions"] for r in results)
    size = sum(p.stat().st_size for p in replay_dir.rglob("page-*.json"))
    facts = {"wall_s": time.perf_counter() - t0, "rows": rows, "partitions": partitions, "json_bytes": size,
             "jobs": jobs}
    marker.write_text(json.dumps({"params": params, "facts": facts}))
    return facts


def _dir_bytes(path: Path, pattern: str = "*") -> int:
    """Bytes on disk under ``path`` (hard-linked files counted once)."""
    seen = {(p.stat().st_dev, p.stat().st_ino): p.stat().st_size for p in path.rglob(pattern) if p.is_file()}
    return sum(seen.values())


def run(profile: str = "quick", weeks: int | None = None, scale: float | None = None, workdir: Path | None = None,
        keep: bool = False, today: date | None = None, gen_jobs: int | None = None, generate_only: bool = False) -> dict:
    spec = PROFILES[profile]
    weeks = weeks or spec.weeks
    scale = scale if scale is not None else spec.scale
    today = today or date.today()
    end = last_published_week(today)
    start = end - timedelta(days=7 * (weeks - 1))
    new_week, new_tier = end + timedelta(days=7), "T1"
    own_workdir = workdir is None
    workdir = Path(workdir or tempfile.mkdtemp(prefix=f"dealerflow-bench-{profile}-"))
    workdir.mkdir(parents=True, exist_ok=True)
    home, replay, replay_new = workdir / "home", workdir / "replay", workdir / "replay-new"
    report = {"profile": profile, "weeks": weeks, "scale": scale, "start": start, "end": end, "tiers": TIERS,
              "started_at": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine_facts()}
    t_total = time.perf_counter()
    try:
        gen = _generate(replay, start, end, TIERS, scale, workdir, gen_jobs or os.cpu_count() or 1)
        gen["avg_rows_per_partition"] = gen["rows"] / max(gen["partitions"], 1)
        report["generate"] = gen
        if generate_only:
            return report
        shutil.rmtree(home, ignore_errors=True)  # every measured run starts from an empty home

        # 1. backfill through the real pipeline, then the mart step alone, then floor and naive peers.
        since = time.time()
        report["backfill"] = run_child("pipeline", {"start": start, "end": end, "tiers": TIERS,
                                                    "replay_dir": str(replay), "home": str(home)}, workdir)
        report["backfill"]["dbt"] = dbt_timings(since, _dagster_finra_weekly, home)
        report["lake"] = {"parquet_bytes": _dir_bytes(home / "lake" / "finra_weekly", "data.parquet"),
                          "payload_bytes": _dir_bytes(home / "lake" / "finra_weekly", "page-*.json*")}
        since = time.time()
        report["marts"] = run_child("build_marts", {"home": str(home)}, workdir)
        report["marts"]["dbt"] = dbt_timings(since, _build_all, home)
        tables = {"pipeline": workdir / "vs-pipeline.parquet", "floor_parquet": workdir / "vs-floor-parquet.parquet",
                  "floor_json": workdir / "vs-floor-json.parquet", "naive_pandas": workdir / "vs-naive.parquet",
                  "naive_pandas_lake": workdir / "vs-naive-lake.parquet"}
        report["floor_parquet"] = run_child("floor_parquet", {"lake": str(home / "lake"),
                                                              "out": str(tables["floor_parquet"])}, workdir)
        report["floor_json"] = run_child("floor_json", {"replay_dir": str(replay), "out": str(tables["floor_json"])},
                                         workdir)
        report["naive_pandas"] = run_child("naive_pandas", {"replay_dir": str(replay),
                                                            "out": str(tables["naive_pandas"])}, workdir)
        report["naive_pandas_lake"] = run_child("naive_pandas_lake", {"lake": str(home / "lake"),
                                                                      "out": str(tables["naive_pandas_lake"])}, workdir)
        snapshot = home / "warehouse" / "bi" / "dealerflow.duckdb"
        venue_share.pipeline_table(snapshot, tables["pipeline"])
        report["agreement"] = venue_share.compare(tables)

        # 4. BI queries on the snapshot of the backfill (before the incremental week changes it).
        report["bi"] = run_child("bi_queries", {"snapshot": str(snapshot), "repeats": spec.bi_repeats,
                                                "symbol": "AAPL"}, workdir)

        # 2. one new (week, tier) partition, incremental, on top of the backfilled warehouse.
        run_child("generate", {"replay_dir": str(replay_new), "start": new_week, "end": new_week, "tiers": [new_tier],
                               "scale": scale}, workdir)
        since = time.time()
        report["incremental"] = run_child("pipeline", {"start": new_week, "end": new_week, "tiers": [new_tier],
                                                       "replay_dir": str(replay_new), "home": str(home)}, workdir)
        report["incremental"]["dbt"] = dbt_timings(since, _dagster_finra_weekly, home)
        report["incremental"]["partition"] = f"{new_week} {new_tier}"

        # 3. GEX profile.
        report["gex"] = run_child("gex", {"levels": 200, "reference_levels": spec.gex_reference_levels,
                                          "repeats": 3}, workdir)
    finally:
        report["harness_wall_s"] = time.perf_counter() - t_total
        # what was measured survives a failed workload (e.g. one killed hours into a 208-week run)
        (workdir / "report.json").write_text(json.dumps(report, indent=2, default=str))
        if own_workdir and not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            report["workdir"] = str(workdir)
    return report


# -- targets and the report -------------------------------------------------------------------------
def evaluate(r: dict) -> list[dict]:
    """Each figure with its reference, ratio and target, as rows for the report.

    "The floor" is DuckDB alone computing the venue-share table from the same input: for the end-to-end backfill
    that input is the raw Query API JSON pages the pipeline fetched; for the mart step (and the venue-share model)
    it is the landed lake Parquet the mart step reads. Both floors are shown everywhere."""
    nan = float("nan")
    floor_pq = r["floor_parquet"]["result"]["seconds"]
    floor_js = r["floor_json"]["result"]["seconds"]
    naive = r["naive_pandas"]["result"]["seconds"]
    naive_lake = r["naive_pandas_lake"]["result"]["seconds"]
    backfill = r["backfill"]["wall_s"]
    rows = []

    def row(workload, measured, reference, ratio, target, hit):
        rows.append({"workload": workload, "measured": measured, "reference": reference, "ratio": ratio,
                     "target": target, "hit": hit})

    budget = 5 * floor_js + 60
    row(f"1. backfill end to end ({r['weeks']} wk x 3 tiers)", f"{backfill:.1f} s",
        f"floor: DuckDB on the same raw JSON pages {floor_js:.1f} s (on the landed Parquet {floor_pq:.2f} s)",
        f"{backfill / floor_js:.1f}x JSON floor ({backfill / floor_pq:.0f}x Parquet floor)",
        f"<= 5x floor + 60 s = {budget:.0f} s", backfill <= budget)
    peak_gb = max(r["backfill"]["peak_rss_mb"], r.get("marts", {}).get("peak_rss_mb", 0)) / 1024
    row("1. backfill peak RSS", f"{peak_gb:.2f} GB (largest process of the tree: Dagster {r['backfill']['python_peak_rss_mb'] / 1024:.2f} GB; "
        f"landing workers and dbt {r['backfill']['children_peak_rss_mb'] / 1024:.2f} GB)",
        f"floor {r['floor_json']['peak_rss_mb'] / 1024:.2f} GB; naive pandas {r['naive_pandas']['peak_rss_mb'] / 1024:.2f} GB",
        "", "<= 4 GB", peak_gb <= 4)
    marts, dbt = r["marts"]["wall_s"], r["marts"]["dbt"]
    row("1. mart-building step alone (dbt build of every mart + tests + publish)",
        f"{marts:.1f} s (dbt {dbt.get('dbt_elapsed_s', nan):.1f} s: models {dbt.get('models_s', nan):.1f} s, "
        f"tests {dbt.get('tests_s', nan):.1f} s)",
        f"floor (DuckDB on the lake Parquet) {floor_pq:.2f} s", f"{marts / floor_pq:.1f}x "
        f"({dbt.get('models_s', nan) / floor_pq:.1f}x for the models alone)", "<= 2x floor", marts <= 2 * floor_pq)
    model = dbt.get("nodes", {}).get("venue_share_weekly", nan)  # the mart step builds every week at once
    row("1. venue-share table: the pipeline's model vs naive pandas (both from the lake Parquet)",
        f"venue_share_weekly {model:.2f} s", f"naive pandas {naive_lake:.2f} s; floor {floor_pq:.2f} s",
        f"{naive_lake / model:.1f}x faster ({model / floor_pq:.1f}x floor)", ">= 5x faster", naive_lake / model >= 5)
    row("1. (reported) whole pipeline vs naive pandas on the raw JSON", f"pipeline {backfill:.1f} s (lands, validates, "
        "versions, builds and tests every mart)", f"naive pandas {naive:.1f} s (one table; DuckDB on the same JSON "
        f"{floor_js:.1f} s)", f"{naive / backfill:.2f}x", "", True)
    inc = r["incremental"]["wall_s"]
    row(f"2. one new partition ({r['incremental']['partition']}) incremental", f"{inc:.1f} s",
        f"dbt {r['incremental']['dbt'].get('dbt_elapsed_s', float('nan')):.1f} s of it", "", "<= 20 s", inc <= 20)
    g = r["gex"]["result"]
    row(f"3. GEX profile ({g['contracts']:,} contracts x {g['levels']} levels)", f"{g['vectorized_s']:.3f} s",
        f"per-row apply {g['reference_full_grid_s_extrapolated']:.0f} s"
        + (f" (extrapolated from {g['reference_levels_measured']} levels)" if g["reference_extrapolated"] else ""),
        f"{g['speedup_ratio']:,.0f}x", "<= 0.3 s and >= 100x", g["vectorized_s"] <= 0.3 and g["speedup_ratio"] >= 100)
    for name, q in r["bi"]["result"].items():
        row(f"4. BI: {name}", f"{q['median_ms']:.1f} ms median (max {q['max_ms']:.1f} ms, n={q['repeats']}, "
            f"{q['rows']} rows)", "", "", "<= 100 ms", q["median_ms"] <= 100)
    return rows


def format_markdown(r: dict) -> str:
    m, gen = r["machine"], r["generate"]
    v = m["versions"]
    lines = [
        f"## FINRA weekly pipeline benchmark: {r['profile']} run ({r['started_at']})",
        "",
        f"- Machine: {m['cores']} cores ({m['cpu']}), {m['memory_gb']:.1f} GB RAM, Linux {m['kernel']}; load average "
        f"at start {', '.join(f'{x:.1f}' for x in m['load_average_at_start'])}. Python {m['python']}, "
        f"DuckDB {v['duckdb']}, dbt-core {v['dbt-core']} + dbt-duckdb {v['dbt-duckdb']}, Dagster {v['dagster']} "
        f"(dagster-dbt {v['dagster-dbt']}), pandas {v['pandas']}, pyarrow {v['pyarrow']}, GX {v['great-expectations']}.",
        f"- Data: weeks {r['start']} .. {r['end']} ({r['weeks']} weeks) x T1, T2, OTCE, synthetic scale {r['scale']}: "
        f"{gen['rows']:,} rows in {gen['partitions']} (week, tier) partitions, **{gen['avg_rows_per_partition']:,.0f} rows "
        f"per (week, tier) on average**, {gen['json_bytes'] / 1e9:.2f} GB of Query API JSON pages. Generated in "
        f"{gen['wall_s']:.0f} s ({gen['jobs']} processes; not counted below).",
        f"- Lake after the backfill: {r['lake']['parquet_bytes'] / 1e6:,.0f} MB Parquet, "
        f"{r['lake']['payload_bytes'] / 1e6:,.0f} MB of original payloads (zstd).",
        f"- Whole harness: {r['harness_wall_s']:.0f} s.",
        "",
        "| Workload | Measured | Reference (same run) | Ratio | Target | Result |",
        "|---|---|---|---|---|---|",
    ]
    for row in evaluate(r):
        verdict = "reported" if not row["target"] else ("hit" if row["hit"] else "**miss**")
        lines.append(f"| {row['workload']} | {row['measured']} | {row['reference']} | {row['ratio']} | {row['target']} "
                     f"| {verdict} |")
    a = r["agreement"]
    lines += ["", "Venue-share table cross-check (same rows, quantities, trades and shares; reference = pipeline mart): "
              + ("**all agree**" if a["agree"] else "**DISAGREE**"), ""]
    lines.append("| Implementation | Rows | Share quantity | Trades | Sum of shares | Max share diff | Agrees |")
    lines.append("|---|---|---|---|---|---|---|")
    for name, t in a["tables"].items():
        lines.append(f"| {name} | {t['rows']:,} | {t['share_quantity']:,.1f} | {t['trade_count']:,} | "
                     f"{t['venue_share_sum']:.6f} | {t['max_abs_share_diff'] or 0:.1e} | {'yes' if t['agrees'] else 'NO'} |")
    b, mk, inc = r["backfill"], r["marts"], r["incremental"]
    bd = b.get("dbt") or {}
    lines += [
        "",
        "Where the time goes (from this run):",
        f"- Backfill {b['wall_s']:.1f} s = dbt build {bd.get('dbt_elapsed_s', float('nan')):.1f} s (models "
        f"{bd.get('models_s', float('nan')):.1f} s, tests {bd.get('tests_s', float('nan')):.1f} s) + fetch/parse/land/checks "
        f"and start-up {b['wall_s'] - bd.get('dbt_elapsed_s', 0):.1f} s "
        f"({(b['wall_s'] - bd.get('dbt_elapsed_s', 0)) / max(r['generate']['rows'], 1) * 1e6:.1f} us per raw row). "
        f"Slowest dbt nodes: {', '.join(f'{n} {s} s' for n, s in bd.get('slowest', []))}.",
        f"- One partition {inc['wall_s']:.1f} s: dbt {inc.get('dbt', {}).get('dbt_elapsed_s', float('nan')):.1f} s "
        f"(models {inc.get('dbt', {}).get('models_s', float('nan')):.1f} s, tests {inc.get('dbt', {}).get('tests_s', float('nan')):.1f} s); "
        f"peak RSS {inc['peak_rss_mb'] / 1024:.2f} GB.",
    ]
    for label, run in (("Backfill", b), ("One partition", inc)):
        steps = (run.get("result") or {}).get("steps") or []
        if steps:
            lines.append(f"- {label}, Dagster steps (wall, from the run's event log): "
                         + ", ".join(f"{key} {seconds:.1f} s" for key, seconds in steps)
                         + f"; outside steps (imports, definitions, run start and end) "
                         f"{run['wall_s'] - sum(sec for _, sec in steps):.1f} s.")
    md = mk.get("dbt") or {}
    lines.append(f"- Mart step {mk['wall_s']:.1f} s: dbt {md.get('dbt_elapsed_s', float('nan')):.1f} s, the rest is "
                 f"Dagster-free start-up (imports, dbt CLI start and manifest load, calendar) and the BI snapshot copy; "
                 f"slowest nodes: {', '.join(f'{n} {s} s' for n, s in md.get('slowest', []))}.")
    lines.append("")
    return "\n".join(lines)


def append_report(markdown: str, path: Path) -> None:
    """Append a section to BENCHMARKS.md (other sections are never touched)."""
    if not path.exists():
        path.write_text("# dealerflow benchmarks\n\nProduced by `make bench` / `make bench-quick` "
                        "(benchmarks/finra_weekly_bench.py) and benchmarks/gex_profile.py. Newest sections last.\n\n")
    with path.open("a") as fh:
        fh.write("\n" + markdown)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--weeks", type=int, help="weeks to backfill (default: the profile's)")
    parser.add_argument("--scale", type=float, help=f"synthetic scale (realistic: {REALISTIC_SCALE})")
    parser.add_argument("--workdir", type=Path, help="keep generated data and the warehouse here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    parser.add_argument("--report", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--no-append", action="store_true", help="print only; do not append to the report")
    parser.add_argument("--json", type=Path, help="also write the raw measurements here")
    parser.add_argument("--generate-only", action="store_true",
                        help="only write the upstream pages into --workdir (a later run there reuses them)")
    args = parser.parse_args(argv)
    if args.generate_only and not args.workdir:
        parser.error("--generate-only needs --workdir")
    result = run(args.profile, args.weeks, args.scale, args.workdir, args.keep or args.generate_only,
                 generate_only=args.generate_only)
    if args.generate_only:
        print(json.dumps(result["generate"], indent=2))
        return result
    markdown = format_markdown(result)
    print(markdown)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    if not args.no_append:
        append_report(markdown, args.report)
        print(f"appended to {args.report}")
    return result


if __name__ == "__main__":
    main()
