"""Reliability suite fixtures; the lake / mart snapshot helpers are in ``reliability_support.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability_support import W1, W3, backfill_args, built_once


@pytest.fixture(scope="session")
def weekly_replay(tmp_path_factory) -> Path:
    """Synthetic FINRA weekly pages (Query API replay layout) for W1..W3, Tier 1 and Tier 2, small scale."""
    from dagster_project.synthetic.finra_weekly import WeeklyConfig, write_weekly

    def write() -> Path:
        root = tmp_path_factory.mktemp("weekly_replay")
        write_weekly(root, W1, W3, tiers=("T1", "T2"), config=WeeklyConfig(scale=0.005))
        return root

    return built_once("weekly_replay", write)


@pytest.fixture(scope="session")
def clean_home(tmp_path_factory, weekly_replay) -> Path:
    """The reference: ``dealerflow backfill`` of W1..W2 Tier 1 from the replay, run once, undisturbed."""
    from reliability_support import run_cli

    def backfill() -> Path:
        home = tmp_path_factory.mktemp("clean") / "home"
        result = run_cli(backfill_args(weekly_replay), home)
        assert result.returncode == 0, result.stderr[-3000:]
        return home

    return built_once("clean_home", backfill)
