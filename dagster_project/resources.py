"""Configurable resources: where dealerflow lives, where FINRA data comes from, the warehouse, dbt."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

import dagster as dg
from dagster_dbt import DbtCliResource
from pydantic import Field

from dagster_project.lake import Lake
from dagster_project.settings import Paths, dealerflow_home

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt"
SOURCE_MODES = ("live", "replay", "synthetic")


class HomeResource(dg.ConfigurableResource):
    """The dealerflow home folder (lake, warehouse, quarantine). Defaults to ``DEALERFLOW_HOME``."""

    home: str = Field(default_factory=lambda: str(dealerflow_home()))

    @property
    def paths(self) -> Paths:
        return Paths(Path(self.home))

    @property
    def lake(self) -> Lake:
        return Lake(self.paths.lake)


class FinraSourceResource(dg.ConfigurableResource):
    """Where FINRA Query API pages come from: ``live`` (api.finra.org or ``DEALERFLOW_FINRA_API_URL``),
    ``replay`` (a folder of recorded pages) or ``synthetic`` (generated on demand, deterministic by seed)."""

    mode: str = Field(default_factory=lambda: os.environ.get("DEALERFLOW_SOURCE", "live"))
    replay_dir: str = Field(default_factory=lambda: os.environ.get("DEALERFLOW_REPLAY_DIR", ""))
    synthetic_seed: int = 20240101
    synthetic_scale: float = Field(default_factory=lambda: float(os.environ.get("DEALERFLOW_SYNTHETIC_SCALE", "0.05")))

    def client(self, paths: Paths):
        if self.mode not in SOURCE_MODES:
            raise dg.Failure(f"unknown FINRA source mode {self.mode!r}; expected one of {', '.join(SOURCE_MODES)}")
        if self.mode == "live":
            from dagster_project.sources.finra_api import FinraApiClient

            return FinraApiClient()
        if self.mode == "replay":
            from dagster_project.sources.finra_api import FinraReplayClient

            if not self.replay_dir or not Path(self.replay_dir).is_dir():
                raise dg.Failure(f"replay source needs an existing replay_dir (got {self.replay_dir!r})")
            return FinraReplayClient(Path(self.replay_dir))
        from dagster_project.synthetic.finra_weekly import SyntheticFinraClient, WeeklyConfig

        return SyntheticFinraClient(paths.home / "synthetic", WeeklyConfig(self.synthetic_seed, self.synthetic_scale))


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB warehouse: one writer at a time, and a BI snapshot published after each good build."""

    home: str = Field(default_factory=lambda: str(dealerflow_home()))

    @property
    def paths(self) -> Paths:
        return Paths(Path(self.home))

    @contextlib.contextmanager
    def writing(self) -> Iterator[Paths]:
        """Hold the writer lock and point dbt at this warehouse and lake for the duration."""
        from dagster_project import warehouse
        from dagster_project.reference import write_publication_calendar

        p = self.paths
        with warehouse.writer_lock(p):
            with warehouse.connect(p=p, lock=False):
                pass  # creates the file in the BI-compatible storage version before dbt opens it
            write_publication_calendar(p)
            os.environ.update(dbt_env(p))
            yield p

    def publish(self) -> Path:
        from dagster_project import warehouse

        return warehouse.publish_snapshot(self.paths)


def dbt_env(p: Paths) -> dict[str, str]:
    """Environment dbt needs: where the warehouse and the lake are; no telemetry."""
    return {
        "DEALERFLOW_WAREHOUSE": str(p.warehouse),
        "DEALERFLOW_LAKE": str(p.lake),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


def dbt_resource() -> DbtCliResource:
    import sys

    return DbtCliResource(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR),
                          dbt_executable=str(Path(sys.executable).parent / "dbt"))
