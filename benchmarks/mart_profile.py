"""Where the FINRA weekly mart step spends its time: its two big models and the GX staging check taken apart,
stage by stage, beside the floor, in one run on a built home (a `make bench` workdir's ``home``).

    .venv/bin/python -m benchmarks.mart_profile <home> [--check-weeks N]

Each SQL stage runs alone (nothing else on the connection), materialized as a temp table, on a read-only connection
to the warehouse with the memory limit dbt uses. The models' SQL is the one dbt last compiled in that home (a build
over every week, as `dealerflow build` runs it). The GX staging check is timed week by week on its first N weeks:
the staging query and the validation apart.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from benchmarks.venue_share import _AGGREGATE, lake_glob

SMBL_FIRM = "('ATS_W_SMBL_FIRM', 'OTC_W_SMBL_FIRM')"


def compiled_model(home: Path, model: str) -> str:
    """The model's SELECT as the last `dealerflow build` (every week) in ``home`` compiled it."""
    found = sorted(home.glob(f"dbt/target/build-*/compiled/dealerflow/models/marts/finra_weekly/{model}.sql"),
                   key=lambda p: p.stat().st_mtime)
    if not found:
        raise SystemExit(f"{home}: no compiled {model}.sql of a `dealerflow build` under dbt/target; run one first")
    return found[-1].read_text()


def sql_stages(home: Path) -> dict[str, str]:
    lake = lake_glob(home / "lake")
    venue_share = compiled_model(home, "venue_share_weekly")
    return {
        "floor: venue-share aggregate on the lake Parquet": _AGGREGATE.format(relation=f"read_parquet('{lake}')"),
        "scan: lake Parquet, symbol x venue rows (4 columns)":
            f"select weekStartDate, tierIdentifier, MPID, totalWeeklyShareQuantity from read_parquet('{lake}') "
            f"where summaryTypeCode in {SMBL_FIRM}",
        "scan: int_finra_weekly_current (staging view + current-version join), same rows and columns":
            f"select week_start_date, tier, mpid, share_quantity from intermediate.int_finra_weekly_current "
            f"where summary_type_code in {SMBL_FIRM}",
        "venue_share_weekly without count(distinct symbol)":
            venue_share.replace("count(distinct symbol)", "count(*)"),
        "venue_share_weekly (the model)": venue_share,
        "symbol_offexchange_weekly (the model)": compiled_model(home, "symbol_offexchange_weekly"),
    }


def time_sql(con, stages: dict[str, str]) -> list[dict]:
    out = []
    for i, (name, sql) in enumerate(stages.items()):
        t0 = time.perf_counter()
        con.execute(f"create temp table stage_{i} as {sql}")
        seconds = time.perf_counter() - t0
        rows = con.execute(f"select count(*) from stage_{i}").fetchone()[0]
        con.execute(f"drop table stage_{i}")
        out.append({"stage": name, "seconds": round(seconds, 2), "rows": rows})
    return out


def time_staging_check(con, weeks: int) -> dict:
    """The GX staging check's loop (dagster_project/checks.py) on the first ``weeks`` weeks: query vs validate."""
    from dagster_project.expectations import frame_for_validation, validate

    t0 = time.perf_counter()
    validate("finra_weekly_staging", frame_for_validation(con.sql(  # first use: GX import and context
        "select * from staging.stg_finra__weekly_summary limit 10").to_arrow_table()))
    first_use = time.perf_counter() - t0
    all_weeks = [w for (w,) in con.execute(
        "select distinct week_start_date from staging.stg_finra__weekly_summary order by 1").fetchall()]
    query = convert = gx = 0.0
    rows = 0
    for week in all_weeks[:weeks]:
        t0 = time.perf_counter()
        table = con.sql("select * from staging.stg_finra__weekly_summary where week_start_date = ?",
                        params=[week]).to_arrow_table()
        t1 = time.perf_counter()
        frame = frame_for_validation(table)
        t2 = time.perf_counter()
        assert validate("finra_weekly_staging", frame).success
        t3 = time.perf_counter()
        query, convert, gx, rows = query + t1 - t0, convert + t2 - t1, gx + t3 - t2, rows + table.num_rows
    n = min(weeks, len(all_weeks))
    return {"weeks_timed": n, "weeks_in_warehouse": len(all_weeks), "rows": rows, "gx_first_use_s": round(first_use, 2),
            "per_week_s": {"query": round(query / n, 3), "to_pandas": round(convert / n, 3), "gx": round(gx / n, 3)},
            "us_per_row": {"query": round(query / rows * 1e6, 2), "to_pandas": round(convert / rows * 1e6, 2),
                           "gx": round(gx / rows * 1e6, 2)}}


def time_staging_check_workers(home: Path, workers: list[int]) -> list[dict]:
    """The whole staging check (every week, every tier) as the Dagster check runs it, with each worker count."""
    import duckdb

    from dagster_project.checks import validate_staging_weeks

    with duckdb.connect(str(home / "warehouse" / "bi" / "dealerflow.duckdb"), read_only=True) as con:
        weeks = [w for (w,) in con.execute("select distinct week_start_date from staging.stg_finra__weekly_summary "
                                           "order by 1").fetchall()]
    out = []
    for n in workers:
        t0 = time.perf_counter()
        outcomes = validate_staging_weeks(str(home), weeks, ["T1", "T2", "OTCE"], n)
        out.append({"workers": n, "weeks": len(weeks), "rows": sum(r for r, _ in outcomes),
                    "all_met": all(res is None or res.success for _, res in outcomes),
                    "seconds": round(time.perf_counter() - t0, 1)})
    return out


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("home", type=Path)
    parser.add_argument("--check-weeks", type=int, default=8)
    parser.add_argument("--check-workers", type=int, nargs="*",
                        help="also time the whole staging check with these worker counts (e.g. 1 2)")
    args = parser.parse_args(argv)
    from dagster_project.settings import Paths
    from dagster_project.warehouse import connect

    home = args.home.resolve()
    with connect(read_only=True, p=Paths(home)) as con:
        result = {"sql": time_sql(con, sql_stages(home)), "staging_check": time_staging_check(con, args.check_weeks)}
    if args.check_workers:
        result["staging_check_workers"] = time_staging_check_workers(home, args.check_workers)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
