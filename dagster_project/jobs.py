"""Jobs. Every job that writes the warehouse carries the warehouse tag, limited to one run at a time."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets.finra_weekly import RAW_KEY
from dagster_project.assets.options import CHAIN_KEY, GEX_KEY, OCC_SERIES_KEY, OCC_VOLUME_KEY
from dagster_project.partitions import options_partitions, week_tier_partitions

WAREHOUSE_TAGS = {"dealerflow/warehouse": "duckdb"}


def finra_weekly_job(dbt_assets: dg.AssetsDefinition) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "finra_weekly",
        selection=dg.AssetSelection.assets(RAW_KEY) | dg.AssetSelection.assets(dbt_assets),
        partitions_def=week_tier_partitions,
        tags=WAREHOUSE_TAGS,
        executor_def=dg.in_process_executor,
        description="Fetch FINRA weekly OTC transparency for the selected weeks x tiers into the lake, rebuild the "
                    "affected marts, run the checks and publish the BI snapshot.",
    )


def options_daily_job(dbt_assets: dg.AssetsDefinition) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "options_daily",
        selection=dg.AssetSelection.assets(CHAIN_KEY, OCC_VOLUME_KEY, OCC_SERIES_KEY, GEX_KEY)
        | dg.AssetSelection.assets(dbt_assets),
        partitions_def=options_partitions,
        tags=WAREHOUSE_TAGS,
        executor_def=dg.in_process_executor,
        description="Fetch Cboe chains and OCC volume / open interest for the selected trade dates x underlyings, "
                    "derive GEX with its checks, rebuild the options marts and publish the BI snapshot.",
    )


def finra_monthly_job(dbt_assets: dg.AssetsDefinition) -> dg.UnresolvedAssetJobDefinition:
    from dagster_project.assets.finra_monthly import RAW_KEYS
    from dagster_project.partitions import monthly_partitions

    return dg.define_asset_job(
        "finra_monthly",
        selection=dg.AssetSelection.assets(*RAW_KEYS.values()) | dg.AssetSelection.assets(dbt_assets),
        partitions_def=monthly_partitions,
        tags=WAREHOUSE_TAGS,
        executor_def=dg.in_process_executor,
        description="Fetch FINRA monthly block-size (ATS, non-ATS) and non-ATS monthly data for the selected months "
                    "into the lake, check the block invariants, rebuild the monthly marts and publish the BI snapshot.",
    )


#: Short and settlement data: one job per raw dataset (each has its own partitioning), all rebuilding the short_data marts.
SHORT_DATA_JOBS = {"regsho": "regsho_daily", "short-interest": "short_interest", "ftd": "sec_ftd"}


def short_data_jobs(dbt_assets: dg.AssetsDefinition) -> list[dg.UnresolvedAssetJobDefinition]:
    from dagster_project.assets.short_data import FTD_KEY, REGSHO_KEY, SHORT_INTEREST_KEY
    from dagster_project.partitions import ftd_partitions, regsho_partitions, short_interest_partitions

    specs = [
        ("regsho_daily", REGSHO_KEY, regsho_partitions,
         "Fetch FINRA Reg SHO daily short-sale volume files (six facilities) for the selected trade dates"),
        ("short_interest", SHORT_INTEREST_KEY, short_interest_partitions,
         "Fetch FINRA equity short interest for the selected settlement dates (CDN file, else Query API)"),
        ("sec_ftd", FTD_KEY, ftd_partitions, "Fetch SEC fails-to-deliver half-month files for the selected periods"),
    ]
    return [dg.define_asset_job(name, selection=dg.AssetSelection.assets(key) | dg.AssetSelection.assets(dbt_assets),
                                partitions_def=partitions, tags=WAREHOUSE_TAGS, executor_def=dg.in_process_executor,
                                description=f"{what} into the lake, run the checks, rebuild the short_data marts and "
                                            "publish the BI snapshot.")
            for name, key, partitions, what in specs]


def dealer_flow_job(dbt_assets: dg.AssetsDefinition) -> dg.UnresolvedAssetJobDefinition:
    return dg.define_asset_job(
        "dealer_flow",
        selection=dg.AssetSelection.assets(dbt_assets),
        tags=WAREHOUSE_TAGS,
        executor_def=dg.in_process_executor,
        description="Rebuild the dealer-flow view (marts.dealer_flow_weekly) from the FINRA, options and short-data "
                    "marts, run its tests and publish the BI snapshot.",
    )
