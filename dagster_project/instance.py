"""The Dagster instance under the dealerflow home: telemetry off, one warehouse writer at a time."""

from __future__ import annotations

import os

from dagster_project.settings import Paths

DAGSTER_YAML = """\
# Written by dealerflow (dagster_project/instance.py). Edits are overwritten.
telemetry:
  enabled: false
concurrency:
  runs:
    max_concurrent_runs: 4
    # DuckDB has a single writer: runs that write the warehouse queue behind each other.
    tag_concurrency_limits:
      - key: dealerflow/warehouse
        value: duckdb
        limit: 1
  pools:
    default_limit: 1
"""


def prepare_dagster_home(p: Paths) -> str:
    """Create ``DAGSTER_HOME`` with dealerflow's dagster.yaml and point the environment at it."""
    p.dagster_home.mkdir(parents=True, exist_ok=True)
    config = p.dagster_home / "dagster.yaml"
    if not config.is_file() or config.read_text() != DAGSTER_YAML:
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(p.dagster_home)
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")
    return str(p.dagster_home)
