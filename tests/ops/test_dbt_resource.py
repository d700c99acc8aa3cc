"""The dbt resource skips dagster-dbt's per-invocation `dbt --version` subprocess and in-process adapter."""

import inspect

from dagster_dbt import DbtCliResource

from dagster_project.resources import DealerflowDbtCliResource, dbt_resource


def test_the_overridden_hooks_are_still_the_ones_dagster_dbt_calls():
    source = inspect.getsource(DbtCliResource.cli)
    assert "self._cli_version" in source and "self._initialize_dbt_core_adapter(" in source
    for name in ("_cli_version", "_initialize_dbt_core_adapter"):
        assert hasattr(DbtCliResource, name) and name in vars(DealerflowDbtCliResource)


def test_version_comes_from_the_installed_package_without_a_subprocess(monkeypatch):
    import subprocess
    from importlib.metadata import version

    def refuse(*args, **kwargs):
        raise AssertionError(f"unexpected subprocess {args}")

    monkeypatch.setattr(subprocess, "check_output", refuse)
    resource = dbt_resource()
    assert str(resource._cli_version) == version("dbt-core") and resource._cli_version.major == 1
    assert resource._initialize_dbt_core_adapter(["build"]) is None
