"""dealerflow's Dagster definitions: assets, checks, jobs, schedules and resources, wired from their modules."""

from __future__ import annotations

import warnings

import dagster as dg

# BackfillPolicy and partitioned checks are marked beta/preview in Dagster 1.13; dealerflow relies on them knowingly.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

from dagster_project.assets.dbt import finra_weekly_dbt_assets, options_dbt_assets  # noqa: E402
from dagster_project.assets.finra_weekly import finra_weekly_raw  # noqa: E402
from dagster_project.assets.finra_monthly import finra_monthly_dbt_assets, finra_monthly_raw  # noqa: E402
from dagster_project.jobs import finra_monthly_job  # noqa: E402
from dagster_project.schedules import finra_monthly_schedule  # noqa: E402
from dagster_project.assets.options import gex_derived, occ_series_raw, occ_volume_raw, options_chain_raw  # noqa: E402
from dagster_project.jobs import finra_weekly_job, options_daily_job  # noqa: E402
from dagster_project.resources import FinraSourceResource, HomeResource, WarehouseResource, dbt_resource  # noqa: E402
from dagster_project.resources import OptionsSourceResource  # noqa: E402
from dagster_project.schedules import finra_weekly_schedule  # noqa: E402
from dagster_project.checks import finra_weekly_staging_expectations  # noqa: E402
from dagster_project.freshness import with_freshness  # noqa: E402
from dagster_project.sensors import finra_weekly_availability_sensor, short_data_availability_sensor  # noqa: E402
from dagster_project.schedules import options_schedule  # noqa: E402
from dagster_project.assets.short_data import (  # noqa: E402
    regsho_daily_raw, sec_ftd_raw, short_data_dbt_assets, short_interest_raw)
from dagster_project.jobs import short_data_jobs  # noqa: E402
from dagster_project.resources import ShortDataSourceResource  # noqa: E402
from dagster_project.schedules import short_data_schedules  # noqa: E402
from dagster_project.assets.dealer_flow import dealer_flow_dbt_assets  # noqa: E402
from dagster_project.jobs import dealer_flow_job  # noqa: E402
from dagster_project.schedules import dealer_flow_schedule  # noqa: E402


def build_defs(finra: FinraSourceResource | None = None, home: str | None = None,
               options: OptionsSourceResource | None = None,
               short_data: ShortDataSourceResource | None = None) -> dg.Definitions:
    home_kwargs = {"home": home} if home else {}
    dbt_assets = finra_weekly_dbt_assets()
    job = finra_weekly_job(dbt_assets)
    options_dbt = options_dbt_assets()
    options_job = options_daily_job(options_dbt)
    monthly_dbt = finra_monthly_dbt_assets()
    monthly_job = finra_monthly_job(monthly_dbt)
    short_dbt = short_data_dbt_assets()
    short_jobs = short_data_jobs(short_dbt)
    flow_dbt = dealer_flow_dbt_assets()
    flow_job = dealer_flow_job(flow_dbt)
    return dg.Definitions(
        assets=with_freshness([finra_weekly_raw, dbt_assets, options_chain_raw, occ_volume_raw, occ_series_raw,
                               gex_derived, options_dbt, finra_monthly_raw, monthly_dbt, regsho_daily_raw,
                               short_interest_raw, sec_ftd_raw, short_dbt, flow_dbt]),
        asset_checks=[finra_weekly_staging_expectations],
        jobs=[job, options_job, monthly_job, *short_jobs, flow_job],
        schedules=[finra_weekly_schedule(job), options_schedule(options_job),
                   finra_monthly_schedule(monthly_job), *short_data_schedules(short_jobs),
                   dealer_flow_schedule(flow_job)],
        sensors=[finra_weekly_availability_sensor(job), short_data_availability_sensor(*short_jobs[:2])],
        resources={
            "home": HomeResource(**home_kwargs),
            "finra": finra or FinraSourceResource(),
            "options": options or OptionsSourceResource(),
            "short_data": short_data or ShortDataSourceResource(),
            "warehouse": WarehouseResource(**home_kwargs),
            "dbt": dbt_resource(),
        },
    )


defs = build_defs()
