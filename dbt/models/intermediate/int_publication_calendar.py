"""Due dates of every source partition, from dagster_project.publication_calendar (the single source of the rules)."""

from datetime import date, timedelta

import pandas as pd


def model(dbt, session):
    dbt.config(materialized="table")
    from dagster_project.publication_calendar import ATS_FIRST_WEEK, calendar_rows

    horizon = date.today() + timedelta(days=120)
    weekly = pd.DataFrame(calendar_rows("finra-weekly", ATS_FIRST_WEEK, horizon))
    weekly.insert(0, "dataset", "finra-weekly")
    weekly["partition_start"] = weekly.pop("week_start")
    monthly = pd.DataFrame(calendar_rows("finra-monthly", date(2014, 6, 1), horizon)).rename(
        columns={"month_start": "partition_start"})
    monthly.insert(0, "dataset", "finra-monthly")
    monthly["tier"] = None
    out = pd.concat([weekly, monthly[weekly.columns]], ignore_index=True)
    out["partition_start"] = pd.to_datetime(out["partition_start"]).dt.date
    out["due_date"] = pd.to_datetime(out["due_date"]).dt.date
    return out
