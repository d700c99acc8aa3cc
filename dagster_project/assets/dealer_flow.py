"""The dealer-flow view as Dagster assets: one unpartitioned dbt multi-asset for the ``dealer_flow`` tag.

It reads every other source's marts (typed empty relations for sources not built yet) and is cheap to rebuild in
full, so it has no partitions and no dbt vars: the default ``as_of`` builds the latest view."""

import functools

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from dagster_project.assets.dbt import TRANSLATOR, WAREHOUSE_POOL, build_and_publish, dbt_project
from dagster_project.resources import WarehouseResource


@functools.cache
def dealer_flow_dbt_assets() -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=dbt_project().manifest_path,
        project=dbt_project(),
        select="tag:dealer_flow",
        dagster_dbt_translator=TRANSLATOR,
        pool=WAREHOUSE_POOL,
        name="dealer_flow_dbt",
    )
    def _assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        """Rebuild the dealer-flow view from the other sources' marts, then publish the BI snapshot."""
        yield from build_and_publish(context, dbt, warehouse, {})

    return _assets
