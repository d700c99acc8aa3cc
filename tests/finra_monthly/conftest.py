"""Fixtures for the FINRA monthly tests: a synthetic month written as Query API pages, and ways to tamper with it."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from dagster_project.sources import finra_monthly as fm
from dagster_project.sources.finra_api import FinraReplayClient, write_replay_partition
from dagster_project.synthetic.finra_monthly import write_monthly
from dagster_project.synthetic.finra_weekly import WeeklyConfig

MONTH = date(2026, 9, 1)  # due 2026-10-30; the demo's and the end-to-end tests' month
CONFIG = WeeklyConfig()


def read_records(root: Path, dataset: fm.MonthlyDataset, month: date = MONTH, tier: str | None = None) -> list[dict]:
    fetched = FinraReplayClient(root).fetch_partition(dataset.api_name, dataset.api_filters(month, tier))
    return [r for page in fetched.pages for r in json.loads(page)]


def rewrite_records(root: Path, dataset: fm.MonthlyDataset, records: list[dict], month: date = MONTH,
                    tier: str | None = None, page_size: int = 5000) -> None:
    pdir = FinraReplayClient(root).partition_dir(dataset.api_name, dataset.api_filters(month, tier))
    for page in pdir.glob("page-*.json"):
        page.unlink()
    write_replay_partition(root, dataset.api_name, dataset.api_filters(month, tier), records=records, page_size=page_size)


def tamper(records: list[dict], venue: str, category: str | None, **changes) -> list[dict]:
    """Change fields of one venue's row(s) (MPID or crdFirmName or firm name) in one block category."""
    hit = 0
    for r in records:
        name = r.get("MPID") or r.get("crdFirmName") or r.get("marketParticipantName")
        if name == venue and (category is None or r.get("summaryTypeCode") == category):
            r.update({k: (v(r) if callable(v) else v) for k, v in changes.items()})
            hit += 1
    assert hit, f"no row of {venue} {category}"
    return records


@pytest.fixture(scope="session")
def synthetic_month(tmp_path_factory) -> Path:
    """A replay root holding every monthly dataset partition of MONTH (read-only; copy before tampering)."""
    root = tmp_path_factory.mktemp("monthly-replay")
    write_monthly(root, MONTH, CONFIG)
    return root


@pytest.fixture
def replay_copy(synthetic_month, tmp_path) -> Path:
    import shutil

    target = tmp_path / "replay"
    shutil.copytree(synthetic_month, target)
    return target
