"""Configurable resources: where dealerflow lives, where FINRA data comes from, the warehouse, dbt."""

from __future__ import annotations

import contextlib
import functools
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
    landing_workers: int = Field(
        default_factory=lambda: int(os.environ.get("DEALERFLOW_LANDING_WORKERS", "0")),
        description="Processes landing (week, tier) partitions in parallel, and validating the staging rows of a "
                    "run's weeks; 0 = one per CPU core, at most 4 (each holds one partition, ~1 GB at 200k rows).")

    def workers(self) -> int:
        if self.landing_workers < 0:
            raise dg.Failure(f"landing_workers must be 0 (auto) or a positive count, got {self.landing_workers}")
        return self.landing_workers or min(os.cpu_count() or 1, 4)

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


class OptionsSourceResource(dg.ConfigurableResource):
    """Where option chains and OCC reports come from: ``live`` (cdn.cboe.com and marketdata.theocc.com, or
    ``DEALERFLOW_CBOE_URL`` / ``DEALERFLOW_OCC_URL``), ``replay`` (``<replay_dir>/<YYYY-MM-DD>/{cboe,occ}/...``,
    one recorded folder per trade date, since neither feed has history) or ``synthetic`` (written on demand
    under ``<home>/synthetic/options/<YYYY-MM-DD>/``, deterministic by seed)."""

    mode: str = Field(default_factory=lambda: os.environ.get("DEALERFLOW_SOURCE", "live"))
    replay_dir: str = Field(default_factory=lambda: os.environ.get("DEALERFLOW_REPLAY_DIR", ""))
    synthetic_seed: int = 0

    @property
    def is_live(self) -> bool:
        return self.mode == "live"

    def _date_root(self, paths: Paths, trade_date, underlying: str) -> Path:
        if self.mode not in SOURCE_MODES:
            raise dg.Failure(f"unknown options source mode {self.mode!r}; expected one of {', '.join(SOURCE_MODES)}")
        if self.mode == "replay":
            if not self.replay_dir or not Path(self.replay_dir).is_dir():
                raise dg.Failure(f"replay source needs an existing replay_dir (got {self.replay_dir!r})")
            return Path(self.replay_dir) / trade_date.isoformat()
        from dagster_project.sources.cboe import delayed_quotes_path
        from dagster_project.sources.transport import replay_relpath
        from dagster_project.synthetic.options import write_replay

        root = paths.home / "synthetic" / "options" / trade_date.isoformat()
        if not (root / "cboe" / replay_relpath(delayed_quotes_path(underlying))).is_file():
            write_replay(root, trade_date, [underlying], seed=self.synthetic_seed)
        return root

    def cboe_fetcher(self, paths: Paths, trade_date, underlying: str):
        from dagster_project.sources.cboe import cboe_http_fetcher
        from dagster_project.sources.transport import ReplayFetcher

        return cboe_http_fetcher() if self.is_live else ReplayFetcher("CBOE", self._date_root(paths, trade_date, underlying))

    def occ_fetcher(self, paths: Paths, trade_date, underlying: str):
        from dagster_project.sources.occ import occ_http_fetcher
        from dagster_project.sources.transport import ReplayFetcher

        return occ_http_fetcher() if self.is_live else ReplayFetcher("OCC", self._date_root(paths, trade_date, underlying))


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
        "DBT_LOG_PATH": str(p.home / "dbt" / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }


#: dbt's saved parse, kept per dealerflow home (see ``reusing_dbt_parse``).
DBT_PARTIAL_PARSE_FILE = "partial_parse.msgpack"


@contextlib.contextmanager
def reusing_dbt_parse(p: Paths, target: Path) -> Iterator[None]:
    """Seed the dbt invocation writing to ``target`` with this home's last parse, and keep its parse for the next one.

    dbt re-parses the whole project (~5 s) unless the saved parse was made with the same profile values and --vars.
    The repository's ``dbt/target`` parse (``make manifest``) is made for the default warehouse path, so every home
    keeps its own: ``<home>/dbt/partial_parse.msgpack``. Writers are serialized (warehouse lock), so no two runs race."""
    import shutil

    saved = p.home / "dbt" / DBT_PARTIAL_PARSE_FILE
    target.mkdir(parents=True, exist_ok=True)
    if saved.is_file():
        shutil.copy2(saved, target / DBT_PARTIAL_PARSE_FILE)
    try:
        yield
    finally:
        produced = target / DBT_PARTIAL_PARSE_FILE
        if produced.is_file():
            staging = saved.with_name(saved.name + ".tmp")
            shutil.copy2(produced, staging)
            os.replace(staging, saved)


#: Where a run's window vars reach dbt (dbt/macros/run_vars.sql): an env var read only while dbt executes, so a new
#: window keeps dbt's partial parse (``--vars`` would re-parse the whole project on every run).
DBT_RUN_VARS_ENV = "DEALERFLOW_DBT_RUN_VARS"


@contextlib.contextmanager
def scoped_environ(env: dict[str, str]) -> Iterator[None]:
    """Set ``env`` in this process (dbt subprocesses inherit it) and restore the previous values afterwards."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def dbt_run_vars_env(run_vars: dict) -> dict[str, str]:
    """The environment carrying a dbt run's window vars (see ``DBT_RUN_VARS_ENV``)."""
    import json

    return {DBT_RUN_VARS_ENV: json.dumps(run_vars, sort_keys=True)}


class DealerflowDbtCliResource(DbtCliResource):
    """dagster-dbt's CLI resource without two start-up costs this project never uses (~6 s per dbt step).

    Before every invocation dagster-dbt runs ``dbt --version`` in a subprocess and builds a dbt adapter in the
    Dagster process; the adapter only serves ``fetch_column_metadata``/``fetch_row_counts``, which dealerflow does
    not call. The dbt executable is this environment's, so its version is the installed dbt-core's. Both hooks are
    private to dagster-dbt (pinned 0.29.*); tests/ops/test_dbt_resource.py fails if they stop being used."""

    @functools.cached_property
    def _cli_version(self):
        from importlib.metadata import version as installed_version

        from packaging.version import parse

        return parse(installed_version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args):
        return None


def dbt_resource() -> DealerflowDbtCliResource:
    import sys

    return DealerflowDbtCliResource(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR),
                                    dbt_executable=str(Path(sys.executable).parent / "dbt"))


class ShortDataSourceResource(dg.ConfigurableResource):
    """Where Reg SHO, short-interest and SEC fails-to-deliver files come from: ``live`` (cdn.finra.org,
    api.finra.org and www.sec.gov, or ``DEALERFLOW_<SOURCE>_URL``), ``replay`` (``<replay_dir>/{finra_cdn,finra_api,
    sec}/`` mirroring URL paths) or ``synthetic`` (written under ``<home>/synthetic/short/`` for the requested range,
    deterministic by seed, over the FINRA weekly synthetic universe). Live SEC requests carry a User-Agent with the
    contact address in ``DEALERFLOW_CONTACT``, as the SEC requires."""

    mode: str = Field(default_factory=lambda: os.environ.get("DEALERFLOW_SOURCE", "live"))
    replay_dir: str = Field(default_factory=lambda: os.environ.get("DEALERFLOW_REPLAY_DIR", ""))
    synthetic_seed: int = 20240101
    synthetic_scale: float = Field(default_factory=lambda: float(os.environ.get("DEALERFLOW_SYNTHETIC_SCALE", "0.05")))

    def _root(self, paths: Paths) -> Path:
        if self.mode not in SOURCE_MODES:
            raise dg.Failure(f"unknown short-data source mode {self.mode!r}; expected one of {', '.join(SOURCE_MODES)}")
        if self.mode == "replay":
            if not self.replay_dir or not Path(self.replay_dir).is_dir():
                raise dg.Failure(f"replay source needs an existing replay_dir (got {self.replay_dir!r})")
            return Path(self.replay_dir)
        return paths.home / "synthetic" / "short"

    def prepare(self, paths: Paths, dataset: str, start, end) -> None:
        """Synthetic mode: write the upstream files of ``dataset`` for ``[start, end]`` (a no-op otherwise)."""
        if self.mode == "synthetic":
            from dagster_project.landing.short_data import write_synthetic_sources

            write_synthetic_sources(self._root(paths), dataset, start, end, seed=self.synthetic_seed,
                                    scale=self.synthetic_scale)

    def finra_cdn(self, paths: Paths):
        from dagster_project.sources.transport import HttpFetcher, ReplayFetcher

        if self.mode == "live":
            from dagster_project.settings import contact_user_agent

            return HttpFetcher("FINRA_CDN", contact_user_agent())
        return ReplayFetcher("FINRA_CDN", self._root(paths))

    def finra_api(self, paths: Paths):
        """Query API client for ``consolidatedShortInterest`` (the fallback when the CDN file is missing)."""
        from dagster_project.sources.finra_api import FinraApiClient, FinraReplayClient

        if self.mode == "live":
            return FinraApiClient()
        return FinraReplayClient(self._root(paths))

    def sec(self, paths: Paths):
        from dagster_project.sources.transport import ReplayFetcher

        if self.mode == "live":
            if not os.environ.get("DEALERFLOW_CONTACT"):
                raise dg.Failure("the SEC requires a User-Agent with a contact: set DEALERFLOW_CONTACT to an e-mail address")
            from dagster_project.sources.sec_ftd import sec_fetcher

            return sec_fetcher()
        return ReplayFetcher("SEC", self._root(paths))
