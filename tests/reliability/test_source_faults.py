"""Source faults end to end through landing: each recovers, or fails its one partition with a clear error.

Every case fetches week W3 Tier 1 from a fake FINRA Query API (``support.finra_api_server``) with scripted faults,
into a lake that already holds W1 and W2 (Tier 1 and Tier 2). The error must name the partition and the problem;
the partitions already landed must be byte-identical afterwards; a failed partition gets no version at all.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections import deque
from datetime import date
from pathlib import Path

import pytest

from dagster_project.errors import DealerflowError
from dagster_project.lake import Lake
from dagster_project.landing.finra_weekly import land_api_partition
from dagster_project.sources.finra_api import FinraApiClient, FinraReplayClient
from dagster_project.sources.http import HttpPolicy
from support.finra_api_server import FinraApiServer
from support.replay_server import Fault

from reliability_support import W1, W2, W3, HomeSnapshot, assert_preserved, built_once, finra_partition

TODAY = date(2026, 11, 21)
FAST = HttpPolicy(retries=2, backoff_factor=0.0, connect_timeout=2, read_timeout=5)
WHAT = f"weeklySummary tierIdentifier=T1 weekStartDate={W3}"
NEW_W3 = {finra_partition(W3, "T1", "ATS"): 1, finra_partition(W3, "T1", "OTC"): 1}


@pytest.fixture(scope="module")
def landed_home(tmp_path_factory, weekly_replay) -> Path:
    """A home whose lake already holds W1 and W2 for Tier 1 and Tier 2 (landed once, copied per test)."""
    def land() -> Path:
        root = tmp_path_factory.mktemp("landed_home")
        lake = Lake(root / "lake")
        replay = FinraReplayClient(weekly_replay)
        for week in (W1, W2):
            for tier in ("T1", "T2"):
                land_api_partition(replay, lake, week, tier, TODAY, "replay")
        return root

    return built_once("landed_home", land)


@pytest.fixture
def home(tmp_path, landed_home) -> Path:
    shutil.copytree(landed_home, tmp_path / "home")
    return tmp_path / "home"


@pytest.fixture
def api(weekly_replay):
    with FinraApiServer(weekly_replay, max_limit=400) as server:  # several pages per partition
        yield server


def land_w3(api: FinraApiServer, home: Path, policy: HttpPolicy = FAST, **kwargs):
    client = FinraApiClient(base_url=api.url, policy=policy, **kwargs)
    return land_api_partition(client, Lake(home / "lake"), W3, "T1", TODAY, "live")


def expected_rows(api: FinraApiServer) -> int:
    return len(api.records("weeklySummary", {"weekStartDate": W3.isoformat(), "tierIdentifier": "T1"}))


def fails_cleanly(api, home, pattern: str, **kwargs) -> str:
    """Land W3 and expect a DealerflowError matching ``pattern`` that names the partition; nothing may change."""
    before = HomeSnapshot.of(home)
    with pytest.raises(DealerflowError, match=pattern) as err:
        land_w3(api, home, **kwargs)
    message = str(err.value)
    assert WHAT in message, message
    assert_preserved(before, HomeSnapshot.of(home))
    assert not list((home / "lake").glob(f"finra_weekly/week={W3}/*/*/v=*")), "a failed partition landed a version"
    return message


def recovers(api, home, **kwargs) -> float:
    """Land W3 despite the faults: all rows, one new version per kind, the rest untouched. Returns the seconds taken."""
    before = HomeSnapshot.of(home)
    started = time.monotonic()
    landed = land_w3(api, home, **kwargs)
    elapsed = time.monotonic() - started
    after = HomeSnapshot.of(home)
    assert_preserved(before, after, new=NEW_W3)
    assert sum(p.rows for p in landed) == expected_rows(api) == landed[0].record_total
    assert after.rows(f"finra_weekly/week={W3}/tier=T1/") == expected_rows(api)
    return elapsed


# -- recoveries ---------------------------------------------------------------------------------------
def test_429_waits_for_retry_after_then_lands(api, home):
    api.faults.append(Fault.too_many(retry_after=2))
    elapsed = recovers(api, home)
    assert elapsed >= 2.0, f"Retry-After: 2 was not honoured (retried after {elapsed:.2f}s)"
    assert [r["body"]["offset"] for r in api.requests][:2] == [0, 0]


def test_5xx_then_success_lands(api, home):
    api.faults.extend([Fault(503), Fault(502)])
    recovers(api, home)


def test_5xx_on_a_later_page_lands_without_duplicates(api, home):
    api.offset_faults[400] = deque([Fault(500)])
    recovers(api, home)
    assert [r["body"]["offset"] for r in api.requests].count(400) == 2


def test_connection_reset_mid_response_is_retried(api, home):
    api.resets = 1
    recovers(api, home)


def test_read_timeout_is_retried(api, home):
    api.stalls, api.stall_seconds = 1, 1.5
    recovers(api, home, policy=HttpPolicy(retries=2, backoff_factor=0.0, connect_timeout=1, read_timeout=0.5))


def test_record_total_change_between_pages_refetches_the_whole_partition(api, home):
    api.total_changes.extend([0, 3])
    recovers(api, home)
    offsets = [r["body"]["offset"] for r in api.requests]
    assert offsets[:3] == [0, 400, 0], offsets


# -- clean failures of the one partition --------------------------------------------------------------
def test_persistent_5xx_fails_the_partition(api, home):
    api.faults.extend([Fault(503)] * 10)
    fails_cleanly(api, home, r"offset=0: HTTP 503 from http://127\.0\.0\.1:\d+/data/group/otcMarket/name/weeklySummary")


def test_429_beyond_retries_fails_the_partition(api, home):
    api.faults.extend([Fault.too_many(retry_after=0)] * 10)
    fails_cleanly(api, home, r"offset=0: HTTP 429 .*slow down")


def test_connection_resets_that_persist_fail_the_partition(api, home):
    api.resets = 10
    fails_cleanly(api, home, r"offset=0: connection broken while reading the response from http://127\.0\.0\.1")


def test_read_timeouts_that_persist_fail_the_partition(api, home):
    api.stalls, api.stall_seconds = 10, 1.0
    fails_cleanly(api, home, r"offset=0: could not reach .* after 2 retries: .*[Rr]ead timed out",
                  policy=HttpPolicy(retries=2, backoff_factor=0.0, connect_timeout=1, read_timeout=0.3))


def test_short_page_fails_the_partition(api, home):
    api.short_page_offsets.add(400)
    fails_cleanly(api, home, r"page at offset 400 holds (\d+) records but Total-Records-On-Page says (?!\1)\d+; nothing landed")


def test_record_total_that_keeps_changing_fails_the_partition(api, home):
    api.total_changes.extend([0, 1, 0, 2, 0, 3])
    fails_cleanly(api, home, r"Record-Total kept changing while paging .*gave up after 3 attempts, nothing landed")


def test_204_in_the_middle_of_paging_fails_the_partition(api, home):
    api.offset_faults[400] = deque([Fault(204, body=b"")])
    fails_cleanly(api, home, r"HTTP 204 at offset 400 of Record-Total \d+; nothing landed")


def test_redirect_loop_fails_the_partition(api, home):
    api.redirect_loop = True
    fails_cleanly(api, home, r"offset=0: too many redirects from .* \(redirect loop\?\)")


def test_corrupt_gzip_fails_the_partition(api, home):
    api.corrupt_gzip = "middle"
    fails_cleanly(api, home, r"offset=0: corrupt compressed response from http://127\.0\.0\.1")


def test_truncated_gzip_fails_the_partition(api, home):
    api.corrupt_gzip = "tail"
    fails_cleanly(api, home, r"offset=0: response is not valid JSON")


def test_records_of_another_week_fail_the_partition(api, home, weekly_replay, tmp_path):
    # the server answers W3 with W2's rows (a mis-keyed publication): refused, never landed as W3
    api.folder = tmp_path / "misfiled" / "finra_api"
    src = weekly_replay / "finra_api" / "weeklySummary" / "tierIdentifier=T1"
    target = api.folder / "weeklySummary" / "tierIdentifier=T1" / f"weekStartDate={W3}"
    target.mkdir(parents=True)
    for page in (src / f"weekStartDate={W2}").glob("page-*.json"):
        (target / page.name).write_bytes(page.read_bytes())
    fails_cleanly(api, home, rf"record 1 belongs to week {W2} tier T1, not the requested {W3} T1")


def test_schema_drift_in_a_page_fails_the_partition(api, home, weekly_replay, tmp_path):
    api.folder = tmp_path / "drift" / "finra_api"
    src = weekly_replay / "finra_api" / "weeklySummary" / "tierIdentifier=T1" / f"weekStartDate={W3}"
    target = api.folder / "weeklySummary" / "tierIdentifier=T1" / f"weekStartDate={W3}"
    target.mkdir(parents=True)
    records = [r for page in sorted(src.glob("page-*.json")) for r in json.loads(page.read_bytes())]
    records[5]["venueRegion"] = "EU"
    (target / "page-00001.json").write_text(json.dumps(records))
    fails_cleanly(api, home, r"page-00001\.json: schema drift: unexpected field\(s\) venueRegion")


def test_unauthorized_is_not_retried_and_never_shows_the_token(api, home):
    api.faults.append(Fault(401, body=b"invalid token"))
    message = fails_cleanly(api, home, r"offset=0: HTTP 401 .*invalid token", token="tok-9f8e7d6c5b4a")
    assert "tok-9f8e7d6c5b4a" not in message
    assert len(api.requests) == 1


def test_retry_after_longer_than_the_backoff_cap_waits_only_the_cap(api, home):
    api.faults.append(Fault.too_many(retry_after=3600))
    elapsed = recovers(api, home, policy=HttpPolicy(retries=2, backoff_factor=0.0, retry_after_max=1.0,
                                                   connect_timeout=2, read_timeout=5))
    assert 1.0 <= elapsed < 30, f"waited {elapsed:.1f}s for Retry-After: 3600 with a 1s cap"


def test_204_for_a_fresh_partition_lands_empty_versions(api, home, tmp_path):
    api.folder = tmp_path / "nothing" / "finra_api"  # the server has no rows for W3: HTTP 204
    before = HomeSnapshot.of(home)
    landed = land_w3(api, home)
    assert [(p.kind, p.rows, p.is_new) for p in landed] == [("ATS", 0, True), ("OTC", 0, True)]
    assert_preserved(before, HomeSnapshot.of(home), new=NEW_W3)


def test_204_for_a_landed_partition_does_not_empty_it(api, home):
    """An empty answer for a week that holds rows is refused: superseding it would silently empty the marts."""
    api.faults.append(Fault(204, body=b""))
    before = HomeSnapshot.of(home)
    with pytest.raises(DealerflowError) as err:
        land_api_partition(FinraApiClient(base_url=api.url, policy=FAST), Lake(home / "lake"), W2, "T1", TODAY, "live")
    held = before.rows(f"finra_weekly/week={W2}/tier=T1/kind=ATS")
    assert re.fullmatch(rf"weeklySummary tierIdentifier=T1 weekStartDate={W2}: the source answered no records, but "
                        rf"the lake holds ATS {held} rows \(version \w+\), OTC \d+ rows \(version \w+\); "
                        r"not superseding landed rows with an empty version", str(err.value)), str(err.value)
    assert_preserved(before, HomeSnapshot.of(home))


def test_an_impossible_date_in_a_page_fails_the_partition(api, home, weekly_replay, tmp_path):
    api.folder = tmp_path / "bad_date" / "finra_api"
    src = weekly_replay / "finra_api" / "weeklySummary" / "tierIdentifier=T1" / f"weekStartDate={W3}"
    target = api.folder / "weeklySummary" / "tierIdentifier=T1" / f"weekStartDate={W3}"
    target.mkdir(parents=True)
    records = [r for page in sorted(src.glob("page-*.json")) for r in json.loads(page.read_bytes())]
    records[2]["lastUpdateDate"] = "2026-02-30"
    (target / "page-00001.json").write_text(json.dumps(records))
    fails_cleanly(api, home, r"lastUpdateDate '2026-02-30' is not a YYYY-MM-DD date \(record 3\)")
