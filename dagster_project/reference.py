"""Reference tables the pipeline derives from its own code, written into the lake for dbt to read.

The publication calendar is generated from :mod:`dagster_project.publication_calendar` before every
dbt build, so SQL marts use exactly the rules the schedules and checks use.
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.parquet as pq

from dagster_project.publication_calendar import (
    ATS_FIRST_WEEK,
    FTD_FIRST_MONTH,
    OPTIONS_FIRST_DATE,
    REGSHO_FIRST_DATE,
    SHORT_INTEREST_FIRST_SETTLEMENT,
    calendar_rows,
)
from dagster_project.settings import Paths

CALENDAR_HORIZON_DAYS = 120


def write_publication_calendar(p: Paths, today: date | None = None) -> str:
    """Write ``lake/reference/publication_calendar.parquet`` atomically; returns its path."""
    horizon = (today or date.today()) + timedelta(days=CALENDAR_HORIZON_DAYS)
    rows = [{"dataset": "finra-weekly", "partition_start": r["week_start"], "tier": r["tier"], "due_date": r["due_date"]}
            for r in calendar_rows("finra-weekly", ATS_FIRST_WEEK, horizon)]
    rows += [{"dataset": "finra-monthly", "partition_start": r["month_start"], "tier": None, "due_date": r["due_date"]}
             for r in calendar_rows("finra-monthly", date(2014, 6, 1), horizon)]
    # Short and settlement data: partition_start is the trade date, the settlement date or the half-month's first day.
    rows += [{"dataset": "regsho", "partition_start": r["trade_date"], "tier": None, "due_date": r["due_date"]}
             for r in calendar_rows("regsho", REGSHO_FIRST_DATE, horizon)]
    rows += [{"dataset": "short-interest", "partition_start": r["settlement_date"], "tier": None, "due_date": r["due_date"]}
             for r in calendar_rows("short-interest", SHORT_INTEREST_FIRST_SETTLEMENT, horizon)]
    rows += [{"dataset": "ftd", "partition_start": r["period_start"], "tier": None, "due_date": r["due_date"]}
             for r in calendar_rows("ftd", FTD_FIRST_MONTH, horizon)]
    # Options: partition_start is the trade date; the due time of day lives in publication_calendar.
    rows += [{"dataset": name, "partition_start": r["trade_date"], "tier": None, "due_date": r["due_date"]}
             for name in ("options-chain", "occ") for r in calendar_rows(name, OPTIONS_FIRST_DATE, horizon)]
    table = pa.Table.from_pylist(rows, schema=pa.schema([("dataset", pa.string()), ("partition_start", pa.date32()),
                                                         ("tier", pa.string()), ("due_date", pa.date32())]))
    target = p.lake / "reference" / "publication_calendar.parquet"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    pq.write_table(table, tmp)
    os.replace(tmp, target)
    return str(target)
