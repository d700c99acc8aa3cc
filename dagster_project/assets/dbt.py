"""The dbt project as Dagster assets: one multi-asset per source tag and partitioning."""


import functools
from typing import Any, Mapping

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject, dbt_assets

from dagster_project.partitions import (
    date_underlyings_of,
    dbt_vars,
    monthly_dbt_vars,
    monthly_partitions,
    months_of,
    options_dbt_vars,
    options_partitions,
    week_tier_partitions,
    week_tiers_of,
)
from dagster_project.resources import (DBT_PROJECT_DIR, WarehouseResource, dbt_run_vars_env, reusing_dbt_parse,
                                       scoped_environ)

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

    The window reaches dbt as run vars in the environment (``dbt_run_vars_env``), not ``--vars``, so dbt keeps its
    partial parse. dbt's run artifacts go under the dealerflow home (``dbt/target/<run>``), not into the repository."""
    with warehouse.writing() as p:
        target = p.home / "dbt" / "target" / f"{context.run_id[:8]}-{context.op_def.name}"
        with reusing_dbt_parse(p, target):
            with scoped_environ(dbt_run_vars_env(dbt_vars)):
                invocation = dbt.cli(["build"], context=context, target_path=target)
            yield from invocation.stream()
        path = warehouse.publish()
    context.log.info(f"published BI snapshot {path}")


def dbt_group(tag: str, partitions_def: dg.PartitionsDefinition | None = None,
              vars_of=lambda partition_keys: {}) -> dg.AssetsDefinition:
    """The dbt models tagged ``tag`` as one multi-asset: built for the run's partitions (one run per backfill range)
    with ``vars_of(partition_keys)`` as dbt vars, in the warehouse pool, then the BI snapshot is published."""

    @dbt_assets(
        manifest=dbt_project().manifest_path,
        project=dbt_project(),
        select=f"tag:{tag}",
        partitions_def=partitions_def,
        backfill_policy=dg.BackfillPolicy.single_run() if partitions_def else None,
        dagster_dbt_translator=TRANSLATOR,
        pool=WAREHOUSE_POOL,
        name=f"{tag}_dbt",
    )
    def _assets(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
        keys = context.partition_keys if partitions_def else []
        yield from build_and_publish(context, dbt, warehouse, vars_of(keys))

    return _assets


@functools.cache
def finra_weekly_dbt_assets() -> dg.AssetsDefinition:
    return dbt_group("finra_weekly", week_tier_partitions, lambda keys: dbt_vars(week_tiers_of(keys)))


@functools.cache
def finra_monthly_dbt_assets() -> dg.AssetsDefinition:
    return dbt_group("finra_monthly", monthly_partitions, lambda keys: monthly_dbt_vars(months_of(keys)))


@functools.cache
def options_dbt_assets() -> dg.AssetsDefinition:
    return dbt_group("options", options_partitions, lambda keys: options_dbt_vars(date_underlyings_of(keys)))


@functools.cache
def short_data_dbt_assets() -> dg.AssetsDefinition:
    """Short and settlement marts are full tables rebuilt from every landed partition: no partition vars."""
    return dbt_group("short_data")


@functools.cache
def dealer_flow_dbt_assets() -> dg.AssetsDefinition:
    """The dealer-flow view reads the other marts and is cheap to rebuild in full; the default as_of is the latest."""
    return dbt_group("dealer_flow")
