"""dealerflow's Dagster definitions: assets, checks, jobs, schedules and resources, wired from their modules."""

from __future__ import annotations

import warnings

import dagster as dg

# BackfillPolicy and partitioned checks are marked beta/preview in Dagster 1.13; dealerflow relies on them knowingly.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

from dagster_project.assets.dbt import finra_weekly_dbt_assets  # noqa: E402
from dagster_project.assets.finra_weekly import finra_weekly_raw  # noqa: E402
from dagster_project.jobs import finra_weekly_job  # noqa: E402
from dagster_project.resources import FinraSourceResource, HomeResource, WarehouseResource, dbt_resource  # noqa: E402
from dagster_project.schedules import finra_weekly_schedule  # noqa: E402


def build_defs(finra: FinraSourceResource | None = None, home: str | None = None) -> dg.Definitions:
    home_kwargs = {"home": home} if home else {}
    dbt_assets = finra_weekly_dbt_assets()
    job = finra_weekly_job(dbt_assets)
    return dg.Definitions(
        assets=[finra_weekly_raw, dbt_assets],
        jobs=[job],
        schedules=[finra_weekly_schedule(job)],
        resources={
            "home": HomeResource(**home_kwargs),
            "finra": finra or FinraSourceResource(),
            "warehouse": WarehouseResource(**home_kwargs),
            "dbt": dbt_resource(),
        },
    )


defs = build_defs()
