"""Every raw asset declares how stale it may be; the instance dealerflow writes loads with its limits."""

import dagster as dg

from dagster_project.definitions import defs
from dagster_project.freshness import WINDOWS
from dagster_project.instance import prepare_dagster_home
from dagster_project.settings import Paths


def test_every_raw_and_derived_asset_has_a_freshness_policy():
    with dg.instance_for_test():  # resolving definitions reads the current instance's state storage
        graph = defs.resolve_asset_graph()
    landing = [k for k in graph.get_all_asset_keys() if k.path[0] in ("raw", "derived")]
    assert landing, "no raw assets found"
    for key in landing:
        policy = graph.get(key).freshness_policy
        assert policy is not None, f"{key.to_user_string()} has no freshness policy (add it to freshness.WINDOWS)"
        warn, fail = WINDOWS[tuple(key.path)]
        assert policy.fail_window.to_timedelta() == fail and policy.warn_window.to_timedelta() == warn
        assert warn < fail


def test_instance_config_limits_warehouse_writers_and_enables_freshness(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = prepare_dagster_home(Paths(tmp_path))
    with dg.DagsterInstance.from_config(home) as instance:
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert {"key": "dealerflow/warehouse", "value": "duckdb", "limit": 1} in limits
        assert instance.get_settings("telemetry") == {"enabled": False}
        assert instance.get_settings("freshness") == {"enabled": True}
