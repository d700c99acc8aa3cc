"""dealerflow's Dagster definitions: assets, checks, jobs, schedules, sensors and resources, wired from their modules."""

import warnings

import dagster as dg

# BackfillPolicy and partitioned checks are marked beta/preview in Dagster 1.13; dealerflow relies on them knowingly.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

from dagster_project import jobs, schedules, sensors  # noqa: E402
from dagster_project.assets.dbt import (  # noqa: E402
    dealer_flow_dbt_assets,
    finra_monthly_dbt_assets,
    finra_weekly_dbt_assets,
    options_dbt_assets,
    short_data_dbt_assets,
)
from dagster_project.assets.finra_monthly import finra_monthly_raw  # noqa: E402
from dagster_project.assets.finra_weekly import finra_weekly_raw  # noqa: E402
from dagster_project.assets.options import gex_derived, occ_series_raw, occ_volume_raw, options_chain_raw  # noqa: E402
from dagster_project.assets.short_data import regsho_daily_raw, sec_ftd_raw, short_interest_raw  # noqa: E402
from dagster_project.checks import finra_weekly_staging_expectations  # noqa: E402
from dagster_project.freshness import with_freshness  # noqa: E402
from dagster_project.instance import sqlite_commits_without_fsync  # noqa: E402
from dagster_project.resources import (  # noqa: E402
    FinraSourceResource,
    HomeResource,
    OptionsSourceResource,
    ShortDataSourceResource,
    WarehouseResource,
    dbt_resource,
)


# Runs execute in processes that load these definitions: their Dagster event writes skip the per-event fsync.
sqlite_commits_without_fsync()


def build_defs(finra: FinraSourceResource | None = None, home: str | None = None,
               options: OptionsSourceResource | None = None,
               short_data: ShortDataSourceResource | None = None) -> dg.Definitions:
    home_kwargs = {"home": home} if home else {}
    weekly_dbt, monthly_dbt, options_dbt = finra_weekly_dbt_assets(), finra_monthly_dbt_assets(), options_dbt_assets()
    short_dbt, flow_dbt = short_data_dbt_assets(), dealer_flow_dbt_assets()
    weekly_job, monthly_job = jobs.finra_weekly_job(weekly_dbt), jobs.finra_monthly_job(monthly_dbt)
    options_job, flow_job = jobs.options_daily_job(options_dbt), jobs.dealer_flow_job(flow_dbt)
    short_jobs = jobs.short_data_jobs(short_dbt)
    return dg.Definitions(
        assets=with_freshness([finra_weekly_raw, weekly_dbt, finra_monthly_raw, monthly_dbt, options_chain_raw,
                               occ_volume_raw, occ_series_raw, gex_derived, options_dbt, regsho_daily_raw,
                               short_interest_raw, sec_ftd_raw, short_dbt, flow_dbt]),
        asset_checks=[finra_weekly_staging_expectations],
        jobs=[weekly_job, monthly_job, options_job, *short_jobs, flow_job],
        schedules=[schedules.finra_weekly_schedule(weekly_job), schedules.finra_monthly_schedule(monthly_job),
                   schedules.options_schedule(options_job), *schedules.short_data_schedules(short_jobs),
                   schedules.dealer_flow_schedule(flow_job)],
        sensors=[sensors.finra_weekly_availability_sensor(weekly_job),
                 sensors.short_data_availability_sensor(*short_jobs[:2])],
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
