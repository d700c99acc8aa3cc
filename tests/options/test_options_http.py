"""Cboe and OCC clients over HTTP against a local replay server: mapping, 404, retries, Retry-After."""

from __future__ import annotations

import time
from datetime import date, datetime, timezone

import pytest

from dagster_project.errors import NotPublishedError, SourceError
from dagster_project.sources import cboe, occ
from dagster_project.sources.http import HttpPolicy
from dagster_project.sources.transport import ReplayFetcher
from dagster_project.synthetic.options import write_replay
from support.replay_server import ANY, Fault, ReplayServer

D = date(2024, 3, 14)
FAST = HttpPolicy(retries=3, backoff_factor=0.01, backoff_max=0.05, connect_timeout=2, read_timeout=10)


@pytest.fixture(scope="module")
def replay_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("replay")
    write_replay(root, D, ("QQQ", "NDX"), seed=5)
    return root


def test_cboe_over_http_equals_replay(replay_root, replay_http):
    server = replay_http(replay_root, "CBOE")
    payload, table = cboe.load_delayed_quotes(cboe.cboe_http_fetcher(server.url, FAST), "NDX")
    replay_payload, replay_table = cboe.load_delayed_quotes(ReplayFetcher("CBOE", replay_root), "NDX")
    assert payload == replay_payload and table.equals(replay_table)
    assert server.requests[-1]["relpath"] == "api/global/delayed_quotes/options/_NDX.json"
    assert server.requests[-1]["headers"]["User-Agent"] == cboe.CBOE_USER_AGENT


def test_base_url_from_environment(replay_root, replay_http, monkeypatch):
    server = replay_http(replay_root, "CBOE")
    monkeypatch.setenv("DEALERFLOW_CBOE_URL", server.url + "/")
    _, table = cboe.load_delayed_quotes(cboe.cboe_http_fetcher(policy=FAST), "QQQ")
    assert table.num_rows > 1000


def test_missing_file_is_not_published(replay_root, replay_http):
    server = replay_http(replay_root, "CBOE")
    with pytest.raises(NotPublishedError, match="Cboe delayed quotes IWM"):
        cboe.fetch_delayed_quotes(cboe.cboe_http_fetcher(server.url, FAST), "IWM")
    assert server.requests[-1]["status"] == 404
    with pytest.raises(NotPublishedError):
        cboe.fetch_delayed_quotes(ReplayFetcher("CBOE", replay_root), "IWM")


def test_500_then_200_is_retried(replay_root, replay_http):
    server = replay_http(replay_root, "OCC")
    rel = "series-search@symbol=QQQ&symbolType=U"
    server.fail(rel, Fault(500), Fault(503))
    _, snap = occ.load_series_search(occ.occ_http_fetcher(server.url, FAST), "QQQ", datetime.now(timezone.utc))
    assert snap.table.num_rows > 100
    assert [r["status"] for r in server.requests if r["relpath"] == rel] == [500, 503, 200]


def test_429_retry_after_is_honoured(replay_root, replay_http):
    server = replay_http(replay_root, "OCC")
    server.fail(ANY, Fault.too_many(retry_after=1))
    started = time.monotonic()
    _, table = occ.load_volume_query(occ.occ_http_fetcher(server.url, FAST), D, "QQQ")
    assert time.monotonic() - started >= 0.9  # backoff alone would be ~0.01 s
    assert table.num_rows > 0
    assert [r["status"] for r in server.requests] == [429, 200]
    assert server.requests[-1]["relpath"].startswith("volume-query@accountType=ALL&format=csv")


def test_persistent_errors_give_up_with_a_source_error(replay_root, replay_http):
    server = replay_http(replay_root, "OCC")
    server.fail(ANY, *[Fault(500)] * 10)
    with pytest.raises(SourceError, match="OCC volume-query QQQ 2024-03-14"):
        occ.fetch_volume_query(occ.occ_http_fetcher(server.url, FAST), D, "QQQ")
    assert len(server.requests) == FAST.retries + 1


def test_server_maps_query_to_replay_name_and_rejects_escapes(tmp_path):
    (tmp_path / "occ").mkdir()
    (tmp_path / "occ" / "volume-query@a=1&b=").write_bytes(b"ok")
    import requests

    with ReplayServer.for_source(tmp_path, "OCC") as server:
        assert requests.get(f"{server.url}/volume-query?b=&a=1", timeout=5).content == b"ok"
        assert requests.get(f"{server.url}/volume-query?a=2", timeout=5).status_code == 404
        assert requests.get(f"{server.url}/%2E%2E/secret", timeout=5).status_code in (400, 404)
