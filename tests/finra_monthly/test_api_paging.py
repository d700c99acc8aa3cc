"""The monthly datasets through the real Query API client against a local fake FINRA API: paging, 204, restarts."""

import json

import pytest

from dagster_project.errors import IncompletePartitionError
from dagster_project.landing.finra_monthly import land_month
from dagster_project.lake import Lake
from dagster_project.sources import finra_monthly as fm
from dagster_project.sources.finra_api import FinraApiClient
from dagster_project.sources.http import HttpPolicy
from support.finra_api_server import FinraApiServer
from support.replay_server import Fault

from conftest import MONTH, read_records

FAST = HttpPolicy(retries=2, backoff_factor=0.0, connect_timeout=2, read_timeout=5)


@pytest.fixture
def api(synthetic_month):
    with FinraApiServer(synthetic_month, max_limit=1000) as server:
        yield server


def test_monthly_summary_pages_by_record_total_with_month_and_tier_filters(api, tmp_path):
    expected = len(read_records(api.folder.parent, fm.MONTHLY_SUMMARY, tier="NMS"))
    client = FinraApiClient(base_url=api.url, policy=FAST)
    landed = land_month(client, Lake(tmp_path / "lake"), fm.MONTHLY_SUMMARY, MONTH, "NMS", origin="live")
    assert landed.rows == landed.record_total == expected > 5000
    bodies = [r["body"] for r in api.requests]
    assert [b["offset"] for b in bodies] == list(range(0, expected, 1000))  # server caps pages at 1000
    assert all(r["path"] == "/data/group/otcMarket/name/monthlySummary" for r in api.requests)
    assert bodies[0]["compareFilters"] == [
        {"compareType": "EQUAL", "fieldName": "monthStartDate", "fieldValue": "2026-09-01"},
        {"compareType": "EQUAL", "fieldName": "tierIdentifier", "fieldValue": "NMS"}]
    version = Lake(tmp_path / "lake").latest("finra_monthly_summary", {"month": "2026-09-01", "tier": "NMS"})
    assert len(list((version.path / "payload").glob("page-*.json"))) == len(bodies)


def test_blocks_summary_is_partitioned_by_month_only(api, tmp_path):
    client = FinraApiClient(base_url=api.url, page_size=50, policy=FAST)
    landed = land_month(client, Lake(tmp_path / "lake"), fm.ATS_BLOCKS, MONTH, None, origin="live")
    assert landed.rows == 180 and len(api.requests) == 4  # 50 + 50 + 50 + 30
    assert api.requests[0]["body"]["compareFilters"] == [
        {"compareType": "EQUAL", "fieldName": "monthStartDate", "fieldValue": "2026-09-01"}]
    assert api.requests[0]["path"].endswith("/name/blocksSummary")


def test_an_unpublished_or_uncovered_month_answers_204_and_lands_empty(api, tmp_path):
    from datetime import date

    client = FinraApiClient(base_url=api.url, policy=FAST)
    landed = land_month(client, Lake(tmp_path / "lake"), fm.OTC_BLOCKS, date(2019, 9, 1), None, origin="live")
    assert landed.rows == 0 and landed.record_total == 0 and landed.is_new
    assert len(api.requests) == 1


def test_record_total_change_mid_fetch_restarts_and_retries_5xx(api, tmp_path):
    api.total_changes.extend([0, 7])  # FINRA republishes between the first and second page
    api.faults.append(Fault(503))
    client = FinraApiClient(base_url=api.url, page_size=50, policy=FAST)
    landed = land_month(client, Lake(tmp_path / "lake"), fm.OTC_BLOCKS, MONTH, None, origin="live")
    assert landed.rows == landed.record_total == 96
    # 503 (retried), page 1, page 2 with a changed Record-Total, then the whole partition again.
    assert [r["body"]["offset"] for r in api.requests] == [0, 0, 50, 0, 50]


def test_a_short_page_lands_nothing(api, tmp_path):
    api.short_page_offsets.add(50)
    client = FinraApiClient(base_url=api.url, page_size=50, policy=FAST)
    lake = Lake(tmp_path / "lake")
    with pytest.raises(IncompletePartitionError, match="blocksSummary monthStartDate=2026-09-01.*nothing landed"):
        land_month(client, lake, fm.ATS_BLOCKS, MONTH, None, origin="live")
    assert lake.partitions("finra_ats_blocks") == []


def test_the_same_content_twice_lands_one_version(api, tmp_path):
    client = FinraApiClient(base_url=api.url, policy=FAST)
    lake = Lake(tmp_path / "lake")
    first = land_month(client, lake, fm.ATS_BLOCKS, MONTH, None, origin="live")
    again = land_month(client, lake, fm.ATS_BLOCKS, MONTH, None, origin="live")
    assert first.is_new and not again.is_new and first.version_id == again.version_id
    manifest = json.loads((lake.latest("finra_ats_blocks", {"month": "2026-09-01"}).path / "manifest.json").read_text())
    assert manifest["facts"]["record_total"] == 180 and manifest["facts"]["published_on"] == "2026-10-30"
