"""The dbt project as Dagster assets: one multi-asset per source tag and partitioning."""


import functools
from typing import Any, Mapping

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from dagster_project.partitions import (
    date_underlyings_of,
    dbt_vars,
    options_dbt_vars,
    options_partitions,
    week_tier_partitions,
    week_tiers_of,
)
from dagster_project.resources import DBT_PROJECT_DIR, WarehouseResource

WAREHOUSE_POOL = "warehouse"


@functools.cache
def dbt_project() -> DbtProject:
    project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
    project.prepare_if_dev()
    return project


class DealerflowTranslator(DagsterDbtTranslator):
    """Asset keys are <layer>/<model> (staging, intermediate, marts); groups follow the source tag."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return super().get_asset_key(dbt_resource_props)
        layer = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else "models"
        return dg.AssetKey([layer, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        tags = dbt_resource_props.get("tags") or []
        return tags[0] if tags else "warehouse"


TRANSLATOR = DealerflowTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def build_and_publish(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource,
                      dbt_vars: dict):
    """Build the selected models for the run's partitions under the writer lock, then publish the BI snapshot.

    dbt's run artifacts go under the dealerflow home (``dbt/target/<run>``), not into the repository."""
    import json

    with warehouse.writing() as p:
        target = p.home / "dbt" / "target" / f"{context.run_id[:8]}-{context.op_def.name}"
        yield from dbt.cli(["build", "--vars", json.dumps(dbt_vars)], context=context, target_path=target).stream()
        path = warehouse.publish()
    context.log.info(f"published BI snapshot {path}")


@functools.cache
def finra_weekly_dbt_assets() -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=dbt_project().manifest_path,
        project=dbt_project(),
        select="tag:finra_weekly",
        partitions_def=week_tier_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        dagster_dbt_translator=TRANSLATOR,
        pool=WAREHOUSE_POOL,
        name="finra_weekly_dbt",
    )
    def _assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        """Rebuild the FINRA weekly models for the run's weeks and tiers, then publish the BI snapshot."""
        yield from build_and_publish(context, dbt, warehouse, dbt_vars(week_tiers_of(context.partition_keys)))

    return _assets


@functools.cache
def options_dbt_assets() -> dg.AssetsDefinition:
    @dbt_assets(
        manifest=dbt_project().manifest_path,
        project=dbt_project(),
        select="tag:options",
        partitions_def=options_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        dagster_dbt_translator=TRANSLATOR,
        pool=WAREHOUSE_POOL,
        name="options_dbt",
    )
    def _assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        """Rebuild the options marts for the run's trade dates and underlyings, then publish the BI snapshot."""
        yield from build_and_publish(context, dbt, warehouse, options_dbt_vars(date_underlyings_of(context.partition_keys)))

    return _assets
