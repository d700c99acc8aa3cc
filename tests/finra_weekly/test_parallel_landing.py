"""Landing (week, tier) partitions in worker processes gives the same lake as landing them one by one."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from dagster_project.landing.finra_weekly import land_partitions
from dagster_project.lake import Lake
from dagster_project.sources import finra_weekly as fw
from dagster_project.sources.finra_api import FinraReplayClient
from dagster_project.synthetic.finra_weekly import WeeklyConfig, write_weekly

W1 = date(2026, 9, 7)
TODAY = date(2026, 11, 21)
PAIRS = [(W1 + timedelta(days=7 * i), tier) for i in range(2) for tier in ("T1", "T2")]


@pytest.fixture(scope="module")
def replay(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("replay")
    write_weekly(root, PAIRS[0][0], PAIRS[-1][0], tiers=("T1", "T2"), config=WeeklyConfig(scale=0.01))
    return root


def _lake_facts(root: Path) -> dict:
    lake = Lake(root)
    return {tuple(p.values()): (v.rows, v.content_hash) for p in lake.partitions(fw.DATASET)
            for v in [lake.latest(fw.DATASET, p)]}


def test_two_workers_land_what_one_lands(replay, tmp_path):
    serial = list(land_partitions(FinraReplayClient(replay), tmp_path / "serial", PAIRS, TODAY, "replay",
                                  "finra_weekly_raw", workers=1))
    parallel = list(land_partitions(FinraReplayClient(replay), tmp_path / "parallel", PAIRS, TODAY, "replay",
                                    "finra_weekly_raw", workers=2))
    assert sorted((o.week, o.tier) for o in parallel) == sorted(PAIRS)
    assert not [o.error for o in serial + parallel if o.error]
    assert all(o.expectations is not None and o.expectations.success for o in serial + parallel)
    facts = _lake_facts(tmp_path / "parallel")
    assert facts == _lake_facts(tmp_path / "serial") and len(facts) == 2 * len(PAIRS)
    # the pages are kept compressed, byte for byte as the source sent them
    week, tier = PAIRS[0]
    version = Lake(tmp_path / "parallel").latest(fw.DATASET, fw.lake_partition(week, tier, "ATS"))
    pages = FinraReplayClient(replay).fetch_partition("weeklySummary", fw.api_filters(week, tier)).payloads()
    assert {name: version.read_payload(name) for name in pages} == pages
    assert version.payload_path("page-00001.json").name == "page-00001.json.zst"


def test_a_bad_partition_is_reported_by_name_and_the_others_land(replay, tmp_path):
    broken = tmp_path / "replay"
    import shutil

    shutil.copytree(replay, broken)
    week, tier = PAIRS[1]
    page = FinraReplayClient(broken).partition_dir("weeklySummary", fw.api_filters(week, tier)) / "page-00001.json"
    page.write_bytes(page.read_bytes()[:-40])  # truncated mid-record
    outcomes = {(o.week, o.tier): o for o in land_partitions(FinraReplayClient(broken), tmp_path / "lake", PAIRS,
                                                             TODAY, "replay", "finra_weekly_raw", workers=2)}
    failed = outcomes[week, tier]
    assert failed.error and "page-00001.json" in failed.error and f"weekStartDate={week}" in failed.error
    assert not failed.landed
    assert all(o.error is None and o.landed for key, o in outcomes.items() if key != (week, tier))
    assert not Lake(tmp_path / "lake").versions(fw.DATASET, fw.lake_partition(week, tier, "ATS"))
