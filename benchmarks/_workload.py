"""One measured benchmark workload, run in its own child process so its wall time and peak RSS are its own.

    python -m benchmarks._workload <name> <args.json> <result.json>

The parent (benchmarks/finra_weekly_bench.py) reaps the child with ``os.wait4``, whose ``ru_maxrss`` is the
peak RSS of the child or of any process it waited for (dbt runs as a subprocess of the Dagster step). The
child also records its own peak (VmHWM) and its children's, so Python and dbt can be told apart.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from datetime import date
from pathlib import Path

from benchmarks import venue_share


def _vm_hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(args: dict) -> dict:
    """Write upstream-format Query API pages (not part of the pipeline's time; reported separately)."""
    from dagster_project.synthetic.finra_weekly import WeeklyConfig, write_weekly

    counts = write_weekly(Path(args["replay_dir"]), date.fromisoformat(args["start"]), date.fromisoformat(args["end"]),
                          tiers=tuple(args["tiers"]), config=WeeklyConfig(scale=args["scale"]))
    return counts


def pipeline(args: dict) -> dict:
    """The real Dagster job in process: fetch (replay) -> parse -> land -> checks -> dbt build -> BI snapshot."""
    from dagster_project.runner import run_finra_weekly
    from dagster_project.settings import Paths

    message = run_finra_weekly(date.fromisoformat(args["start"]), date.fromisoformat(args["end"]), args["tiers"],
                               "replay", args["replay_dir"], p=Paths(Path(args["home"])))
    return {"message": message, "steps": _step_seconds(message)}


def _step_seconds(message: str) -> list[list]:
    """Wall seconds of every step of the runs named in ``message`` ("run <id>: ..."), from Dagster's event log."""
    import dagster as dg

    from dagster_project.runner import run_ids_of

    with dg.DagsterInstance.get() as instance:
        return [[s.step_key, round(s.end_time - s.start_time, 2)]
                for run_id in run_ids_of(message) for s in instance.get_run_step_stats(run_id)
                if s.start_time is not None and s.end_time is not None]


def build_marts(args: dict) -> dict:
    """Only the mart-building step: dbt build of the FINRA weekly models over the landed lake, then publish."""
    from dagster_project.runner import build_all
    from dagster_project.settings import Paths

    return {"message": build_all(Paths(Path(args["home"])))}


def floor_parquet(args: dict) -> dict:
    return venue_share.floor_parquet(Path(args["lake"]), Path(args["out"]))


def floor_json(args: dict) -> dict:
    return venue_share.floor_json(Path(args["replay_dir"]), Path(args["out"]))


def naive_pandas(args: dict) -> dict:
    return venue_share.naive_pandas(Path(args["replay_dir"]), Path(args["out"]))


def naive_pandas_lake(args: dict) -> dict:
    return venue_share.naive_pandas_lake(Path(args["lake"]), Path(args["out"]))


def gex(args: dict) -> dict:
    from benchmarks.gex_profile import run

    return run(levels=args["levels"], reference_levels=args["reference_levels"], repeats=args.get("repeats", 3))


def bi_queries(args: dict) -> dict:
    return venue_share.bi_queries(Path(args["snapshot"]), repeats=args["repeats"], symbol=args["symbol"])


WORKLOADS = {f.__name__: f for f in (generate, pipeline, build_marts, floor_parquet, floor_json, naive_pandas,
                                     naive_pandas_lake, gex, bi_queries)}


def main(argv: list[str]) -> None:
    name, args_path, result_path = argv
    args = json.loads(Path(args_path).read_text())
    t0 = time.perf_counter()
    result = WORKLOADS[name](args)
    wall = time.perf_counter() - t0
    result = {
        "result": result,
        "inner_wall_s": wall,
        "python_peak_rss_mb": _vm_hwm_mb(),
        "children_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }
    Path(result_path).write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
