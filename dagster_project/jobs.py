"""Jobs. Every job that writes the warehouse carries the warehouse tag, limited to one run at a time."""

from __future__ import annotations

import dagster as dg

from dagster_project.assets.finra_weekly import RAW_KEY
from dagster_project.partitions import week_tier_partitions

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
