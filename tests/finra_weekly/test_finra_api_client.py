"""The FINRA Query API client against a local fake API: paging, 204, retries, incomplete and inconsistent pages."""

import json
import logging

import pytest

from dagster_project.errors import IncompletePartitionError, SourceError
from dagster_project.sources.finra_api import FinraApiClient, write_replay_partition
from dagster_project.sources.http import HttpPolicy
from support.finra_api_server import FinraApiServer
from support.replay_server import Fault

FAST = HttpPolicy(retries=3, backoff_factor=0.0, connect_timeout=2, read_timeout=5)
FILTERS = {"weekStartDate": "2026-09-07", "tierIdentifier": "T1"}


def _records(n):
    return [{"weekStartDate": "2026-09-07", "tierIdentifier": "T1", "summaryTypeCode": "ATS_W_SMBL_FIRM",
             "issueSymbolIdentifier": f"S{i:05d}", "MPID": "UBSA", "totalWeeklyShareQuantity": i + 0.5,
             "totalWeeklyTradeCount": i} for i in range(n)]


@pytest.fixture
def api(tmp_path):
    write_replay_partition(tmp_path, "weeklySummary", FILTERS, records=_records(12_001), page_size=5000)
    with FinraApiServer(tmp_path) as server:
        yield server


def client(server, **kwargs):
    return FinraApiClient(base_url=server.url, policy=FAST, **kwargs)


def test_pages_until_record_total_and_sends_equal_filters(api):
    fetched = client(api).fetch_partition("weeklySummary", FILTERS)
    assert fetched.records == fetched.record_total == 12_001
    assert [len(json.loads(p)) for p in fetched.pages] == [5000, 5000, 2001]
    bodies = [r["body"] for r in api.requests]
    assert [b["offset"] for b in bodies] == [0, 5000, 10000]
    assert all(b["limit"] == 5000 for b in bodies)
    assert bodies[0]["compareFilters"] == [
        {"compareType": "EQUAL", "fieldName": "weekStartDate", "fieldValue": "2026-09-07"},
        {"compareType": "EQUAL", "fieldName": "tierIdentifier", "fieldValue": "T1"}]


def test_a_server_page_cap_below_the_limit_still_pages_by_record_total(tmp_path):
    write_replay_partition(tmp_path, "weeklySummary", FILTERS, records=_records(2500))
    with FinraApiServer(tmp_path, max_limit=1000) as server:
        fetched = client(server).fetch_partition("weeklySummary", FILTERS)
    assert fetched.records == 2500 and len(fetched.pages) == 3


def test_http_204_is_an_empty_complete_partition(api):
    fetched = client(api).fetch_partition("weeklySummary", {"weekStartDate": "2026-09-14", "tierIdentifier": "T1"})
    assert fetched.records == 0 and fetched.record_total == 0 and fetched.pages == []


def test_retries_5xx_and_429_with_retry_after(api):
    api.faults.extend([Fault(503), Fault.too_many(retry_after=0), Fault(500)])
    fetched = client(api).fetch_partition("weeklySummary", FILTERS)
    assert fetched.records == 12_001
    assert len(api.requests) == 3 + 3


def test_gives_up_after_retries_with_a_clear_error(api):
    api.faults.extend([Fault(502)] * 10)
    with pytest.raises(SourceError, match=r"weeklySummary tierIdentifier=T1 weekStartDate=2026-09-07 offset=0: .*502"):
        client(api).fetch_partition("weeklySummary", FILTERS)


def test_client_error_is_not_retried(api):
    api.faults.append(Fault(400, body=b"bad filter"))
    with pytest.raises(SourceError, match="HTTP 400 .*bad filter"):
        client(api).fetch_partition("weeklySummary", FILTERS)
    assert len(api.requests) == 1


def test_short_page_is_incomplete_not_landed(api):
    api.short_page_offsets.add(5000)
    with pytest.raises(IncompletePartitionError, match="offset 5000 holds 4999 records but Total-Records-On-Page says 5000"):
        client(api).fetch_partition("weeklySummary", FILTERS)


def test_record_total_change_between_pages_restarts_the_partition(api):
    api.total_changes.extend([0, 7])  # second page claims a different total: restart from offset 0
    fetched = client(api).fetch_partition("weeklySummary", FILTERS)
    assert fetched.records == 12_001
    assert [r["body"]["offset"] for r in api.requests] == [0, 5000, 0, 5000, 10000]


def test_record_total_that_keeps_changing_fails_the_partition(api):
    api.total_changes.extend([0, 1, 0, 2, 0, 3])
    with pytest.raises(IncompletePartitionError, match="Record-Total kept changing"):
        client(api, max_restarts=3).fetch_partition("weeklySummary", FILTERS)


def test_corrupt_gzip_is_a_clear_error(api):
    api.corrupt_gzip = "middle"
    with pytest.raises(SourceError, match="offset=0: corrupt compressed response"):
        client(api).fetch_partition("weeklySummary", FILTERS)


def test_truncated_gzip_stream_is_a_clear_error(api):
    api.corrupt_gzip = "tail"
    with pytest.raises(SourceError, match="offset=0: response is not valid JSON"):
        client(api).fetch_partition("weeklySummary", FILTERS)


def test_redirect_loop_is_a_clear_error(api):
    api.redirect_loop = True
    with pytest.raises(SourceError, match="redirect"):
        client(api).fetch_partition("weeklySummary", FILTERS)


def test_bearer_token_is_sent_and_never_shown(api, caplog):
    caplog.set_level(logging.DEBUG)
    c = client(api, token="s3cret-token")
    c.fetch_partition("weeklySummary", FILTERS)
    assert api.requests[0]["headers"]["Authorization"] == "Bearer s3cret-token"
    assert "s3cret-token" not in repr(c)
    assert "s3cret-token" not in caplog.text
    api.faults.extend([Fault(401, body=b"unauthorized")])
    with pytest.raises(SourceError) as err:
        c.fetch_partition("weeklySummary", FILTERS)
    assert "s3cret-token" not in str(err.value)


def test_token_from_environment(api, monkeypatch):
    monkeypatch.setenv("DEALERFLOW_FINRA_TOKEN", "env-token")
    client(api).fetch_partition("weeklySummary", FILTERS)
    assert api.requests[0]["headers"]["Authorization"] == "Bearer env-token"


def test_base_url_comes_from_environment(api, monkeypatch):
    monkeypatch.setenv("DEALERFLOW_FINRA_API_URL", api.url + "/")
    fetched = FinraApiClient(policy=FAST).fetch_partition("weeklySummary", FILTERS)
    assert fetched.source == f"{api.url}/data/group/otcMarket/name/weeklySummary"


def test_available_partitions(api):
    assert client(api).available_partitions("weeklySummary") == [{"tierIdentifier": "T1", "weekStartDate": "2026-09-07"}]
