"""The venue-share table three ways, for side-by-side timing and a correctness cross-check.

* floor (DuckDB alone) on the landed lake Parquet files, and on the raw Query API JSON pages;
* a naive pandas peer: load each (week, tier) partition's pages with ``json`` + pandas, group by, concatenate;
  and the same peer on the landed lake Parquet (one file per week, tier and venue kind);
* the pipeline's own ``marts.venue_share_weekly`` read from the BI snapshot.

All compute the mart's definition: symbol x venue rows (``*_W_SMBL_FIRM``) grouped by week, tier, venue kind and
venue (ATS: MPID, non-ATS: firm name); share = venue quantity / the kind's quantity in that week and tier.
Each writes its table to Parquet (after timing) so the harness can compare them row by row.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import duckdb
import pandas as pd

#: Output columns every implementation produces.
COLUMNS = ["week_start_date", "tier", "venue_kind", "mpid", "share_quantity", "trade_count", "venue_share"]

_AGGREGATE = """
    with rows as (
        select cast(weekStartDate as date) as week_start_date, tierIdentifier as tier,
               left(summaryTypeCode, 3) as venue_kind,
               case when left(summaryTypeCode, 3) = 'ATS' then coalesce(nullif(MPID, ''), marketParticipantName)
                    else marketParticipantName end as mpid,
               totalWeeklyShareQuantity as q, totalWeeklyTradeCount as n
        from {relation}
        where summaryTypeCode in ('ATS_W_SMBL_FIRM', 'OTC_W_SMBL_FIRM')
    ), venues as (
        select week_start_date, tier, venue_kind, mpid, sum(q) as share_quantity, sum(n) as trade_count
        from rows group by all
    )
    select *, cast(share_quantity as double)
              / sum(share_quantity) over (partition by week_start_date, tier, venue_kind) as venue_share
    from venues
"""

_JSON_COLUMNS = ("{weekStartDate: 'VARCHAR', tierIdentifier: 'VARCHAR', summaryTypeCode: 'VARCHAR', MPID: 'VARCHAR', "
                 "marketParticipantName: 'VARCHAR', totalWeeklyShareQuantity: 'DECIMAL(38,6)', "
                 "totalWeeklyTradeCount: 'BIGINT'}")


def lake_glob(lake: Path) -> str:
    return f"{lake}/finra_weekly/*/*/*/v=*/data.parquet"


def replay_glob(replay_dir: Path) -> str:
    return f"{replay_dir}/finra_api/weeklySummary/*/*/page-*.json"


def _duckdb_floor(relation: str, out: Path | None) -> dict:
    con = duckdb.connect()
    try:
        t0 = time.perf_counter()
        con.execute(f"create temp table vs as {_AGGREGATE.format(relation=relation)}")
        seconds = time.perf_counter() - t0
        if out is not None:
            con.execute(f"copy (select {', '.join(COLUMNS)} from vs) to '{out}' (format parquet)")
        rows = con.execute("select count(*) from vs").fetchone()[0]
    finally:
        con.close()
    return {"seconds": seconds, "rows": rows}


def floor_parquet(lake: Path, out: Path | None = None) -> dict:
    """DuckDB alone on the lake's Parquet files (every landed version: one per partition after a backfill)."""
    return _duckdb_floor(f"read_parquet('{lake_glob(lake)}')", out)


def floor_json(replay_dir: Path, out: Path | None = None) -> dict:
    """DuckDB alone on the raw Query API JSON pages the pipeline fetched."""
    relation = (f"read_json('{replay_glob(replay_dir)}', format = 'array', columns = {_JSON_COLUMNS}, "
                f"hive_partitioning = false, maximum_object_size = 1073741824)")
    return _duckdb_floor(relation, out)


def naive_pandas(replay_dir: Path, out: Path | None = None) -> dict:
    """The common hand-rolled approach: per partition, json -> DataFrame, filter, groupby, then concatenate."""
    t0 = time.perf_counter()
    parts = []
    for pdir in sorted(Path(replay_dir, "finra_api", "weeklySummary").glob("*/*")):
        frame = pd.concat([pd.DataFrame(json.loads(page.read_bytes())) for page in sorted(pdir.glob("page-*.json"))],
                          ignore_index=True)
        frame = frame[frame["summaryTypeCode"].isin(["ATS_W_SMBL_FIRM", "OTC_W_SMBL_FIRM"])].copy()
        frame["venue_kind"] = frame["summaryTypeCode"].str[:3]
        frame["mpid"] = frame["marketParticipantName"].where(
            (frame["venue_kind"] == "OTC") | frame["MPID"].isna() | (frame["MPID"] == ""), frame["MPID"])
        venues = (frame.groupby(["weekStartDate", "tierIdentifier", "venue_kind", "mpid"], as_index=False)
                  .agg(share_quantity=("totalWeeklyShareQuantity", "sum"), trade_count=("totalWeeklyTradeCount", "sum")))
        venues["venue_share"] = venues["share_quantity"] / venues.groupby(
            ["weekStartDate", "tierIdentifier", "venue_kind"])["share_quantity"].transform("sum")
        parts.append(venues)
    table = pd.concat(parts, ignore_index=True).rename(columns={"weekStartDate": "week_start_date", "tierIdentifier": "tier"})
    seconds = time.perf_counter() - t0
    if out is not None:
        table["week_start_date"] = pd.to_datetime(table["week_start_date"]).dt.date
        table[COLUMNS].to_parquet(out, index=False)
    return {"seconds": seconds, "rows": len(table), "partitions": len(parts)}


def naive_pandas_lake(lake: Path, out: Path | None = None) -> dict:
    """The naive peer on the landed lake: per (week, tier, kind) Parquet file, pandas filter, groupby, concatenate."""
    t0 = time.perf_counter()
    parts = []
    columns = ["weekStartDate", "tierIdentifier", "summaryTypeCode", "MPID", "marketParticipantName",
               "totalWeeklyShareQuantity", "totalWeeklyTradeCount"]
    for path in sorted(Path(lake, "finra_weekly").glob("*/*/*/v=*/data.parquet")):
        frame = pd.read_parquet(path, columns=columns)
        frame = frame[frame["summaryTypeCode"].isin(["ATS_W_SMBL_FIRM", "OTC_W_SMBL_FIRM"])].copy()
        frame["venue_kind"] = frame["summaryTypeCode"].str[:3]
        frame["mpid"] = frame["marketParticipantName"].where(
            (frame["venue_kind"] == "OTC") | frame["MPID"].isna() | (frame["MPID"] == ""), frame["MPID"])
        parts.append(frame.groupby(["weekStartDate", "tierIdentifier", "venue_kind", "mpid"], as_index=False)
                     .agg(share_quantity=("totalWeeklyShareQuantity", "sum"),
                          trade_count=("totalWeeklyTradeCount", "sum")))
    venues = pd.concat(parts, ignore_index=True)
    venues["venue_share"] = venues["share_quantity"].astype(float) / venues.groupby(
        ["weekStartDate", "tierIdentifier", "venue_kind"])["share_quantity"].transform("sum").astype(float)
    table = venues.rename(columns={"weekStartDate": "week_start_date", "tierIdentifier": "tier"})
    seconds = time.perf_counter() - t0
    if out is not None:
        table["share_quantity"] = table["share_quantity"].astype(float)
        table[COLUMNS].to_parquet(out, index=False)
    return {"seconds": seconds, "rows": len(table), "files": len(parts)}


def pipeline_table(snapshot: Path, out: Path) -> dict:
    """The pipeline's marts.venue_share_weekly, as published in the BI snapshot."""
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        con.execute(f"copy (select {', '.join(COLUMNS)} from marts.venue_share_weekly) to '{out}' (format parquet)")
        return {"rows": con.execute("select count(*) from marts.venue_share_weekly").fetchone()[0]}
    finally:
        con.close()


def compare(tables: dict[str, Path]) -> dict:
    """Row counts, totals and the largest per-venue differences of each table against the first one."""
    con = duckdb.connect()
    try:
        names = list(tables)
        for name, path in tables.items():
            con.execute(f"create view {name} as select * from read_parquet('{path}')")
        out = {"tables": {}, "agree": True}
        base = names[0]
        for name in names:
            rows, qty, trades, share_sum = con.execute(
                f"select count(*), cast(sum(share_quantity) as double), sum(trade_count), sum(venue_share) from {name}"
            ).fetchone()
            diff = con.execute(f"""
                select count(*) filter (where b.mpid is null or o.mpid is null),
                       max(abs(cast(b.share_quantity as double) - cast(o.share_quantity as double))),
                       max(abs(b.trade_count - o.trade_count)), max(abs(b.venue_share - o.venue_share))
                from {base} b full join {name} o
                  on b.week_start_date = o.week_start_date and b.tier = o.tier and b.venue_kind = o.venue_kind
                 and b.mpid = o.mpid""").fetchone()
            unmatched, max_qty, max_trades, max_share = diff
            ok = unmatched == 0 and (max_qty or 0) <= 1e-3 and (max_trades or 0) == 0 and (max_share or 0) <= 1e-9
            out["tables"][name] = {"rows": rows, "share_quantity": qty, "trade_count": int(trades or 0),
                                   "venue_share_sum": share_sum, "unmatched_vs_" + base: unmatched,
                                   "max_abs_share_diff": max_share, "agrees": ok}
            out["agree"] &= ok
        return out
    finally:
        con.close()


#: The BI query set: what a dashboard asks of the warehouse.
BI_QUERIES = {
    "top venues over all weeks (combined share)": """
        select venue_kind, mpid, max(venue_name) as venue_name, sum(share_quantity) as shares,
               sum(share_quantity) / sum(sum(share_quantity)) over (partition by venue_kind) as share_all_weeks
        from marts.venue_share_weekly_all_tiers
        group by venue_kind, mpid
        qualify row_number() over (partition by venue_kind order by sum(share_quantity) desc) <= 10
        order by venue_kind, shares desc""",
    "a symbol's weekly off-exchange trend": """
        select week_start_date, offexchange_share_quantity, ats_fraction, venue_count, top_venue,
               offexchange_volume_change_wow
        from marts.symbol_offexchange_weekly where symbol = $symbol order by week_start_date""",
    "latest complete week's venue ranks": """
        select venue_kind, combined_rank, mpid, venue_name, combined_share
        from marts.venue_share_weekly_all_tiers
        where week_start_date = (select max(week_start_date) from marts.venue_share_weekly_all_tiers where is_complete)
        order by venue_kind, combined_rank""",
}


def bi_queries(snapshot: Path, repeats: int = 20, symbol: str = "AAPL") -> dict:
    """Warm latency of the BI query set on the read-only snapshot: one warm-up, then median and max of N."""
    con = duckdb.connect(str(snapshot), read_only=True)
    out = {}
    try:
        for name, sql in BI_QUERIES.items():
            params = {"symbol": symbol} if "$symbol" in sql else {}
            rows = len(con.execute(sql, params).fetchall())
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                con.execute(sql, params).fetchall()
                times.append(time.perf_counter() - t0)
            out[name] = {"rows": rows, "median_ms": statistics.median(times) * 1000, "max_ms": max(times) * 1000,
                         "repeats": repeats}
    finally:
        con.close()
    return out
