"""OCC volume-query and series-search fetched over HTTP from a local server into the lake, through the Dagster assets."""

from datetime import datetime, timedelta

import dagster as dg
import pyarrow.parquet as pq
import pytest

from dagster_project.assets.options import occ_series_raw, occ_volume_raw
from dagster_project.lake import Lake
from dagster_project.landing import options as lo
from dagster_project.partitions import options_key
from dagster_project.publication_calendar import EASTERN, occ_due_at, options_latest_due, previous_business_day
from dagster_project.resources import HomeResource, OptionsSourceResource
from dagster_project.sources import occ
from dagster_project.synthetic.options import write_replay
from support.replay_server import Fault

LATEST = options_latest_due(datetime.now(EASTERN), occ_due_at)
EARLIER = previous_business_day(LATEST - timedelta(days=1))


@pytest.fixture
def served(tmp_path, replay_http, monkeypatch):
    replay = tmp_path / "replay"
    for day in (LATEST, EARLIER):
        write_replay(replay / day.isoformat(), day, ["QQQ"], seed=3)
    # a live server serves one tree; volume-query names carry the date, so both dates' files can sit side by side
    (replay / "occ").mkdir(parents=True)
    for day in (LATEST, EARLIER):
        for f in (replay / day.isoformat() / "occ").iterdir():
            if f.name.startswith("volume-query") or day == LATEST:
                f.replace(replay / "occ" / f.name)
    server = replay_http(replay, "OCC")
    monkeypatch.setenv("DEALERFLOW_OCC_URL", server.url)
    monkeypatch.setenv("DEALERFLOW_HTTP_BACKOFF", "0.01")
    return replay, server


def materialize(home, day):
    return dg.materialize([occ_volume_raw, occ_series_raw], partition_key=str(options_key(day, "QQQ")),
                          resources={"home": HomeResource(home=str(home)), "options": OptionsSourceResource(mode="live")},
                          instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


def test_live_occ_reports_land_through_http(tmp_path, served):
    replay, server = served
    server.fail("series-search@symbol=QQQ&symbolType=U", Fault(503))
    result = materialize(tmp_path / "home", LATEST)
    assert result.success
    lake = Lake(tmp_path / "home" / "lake")
    volume = lake.latest(lo.OCC_VOLUME_DATASET, lo.lake_partition(LATEST, "QQQ"))
    payload = (replay / "occ" / [f.name for f in (replay / "occ").iterdir()
                                 if f.name.startswith("volume-query") and LATEST.strftime("%Y%m%d") in f.name][0]).read_bytes()
    assert (volume.path / "payload" / "volume-query.csv").read_bytes() == payload
    expected = occ.parse_volume_query(payload, "file", report_date=LATEST)
    landed = pq.read_table(volume.data_path).drop_columns(list(lo.META_COLUMNS))
    assert landed.equals(expected)
    series = lake.latest(lo.OCC_SERIES_DATASET, lo.lake_partition(LATEST, "QQQ"))
    captured = datetime.fromisoformat(series.manifest["facts"]["captured_at"])
    assert abs((datetime.now(EASTERN) - captured).total_seconds()) < 120  # a live snapshot is stamped when fetched
    assert series.rows > 100
    statuses = [r["status"] for r in server.requests if r["relpath"].startswith("series-search")]
    assert statuses == [503, 200]


def test_live_series_search_has_no_history_but_volume_query_does(tmp_path, served):
    _, server = served
    result = materialize(tmp_path / "home", EARLIER)
    assert result.success
    lake = Lake(tmp_path / "home" / "lake")
    assert lake.latest(lo.OCC_VOLUME_DATASET, lo.lake_partition(EARLIER, "QQQ")).rows > 0
    assert lake.latest(lo.OCC_SERIES_DATASET, lo.lake_partition(EARLIER, "QQQ")) is None
    skipped = [m for m in result.asset_materializations_for_node("raw__occ_series")][0].metadata["skipped"].value
    assert skipped and "no history" in skipped[0] and f"{EARLIER} QQQ" in skipped[0]
    assert not any(r["relpath"].startswith("series-search") for r in server.requests)


def test_unpublished_volume_is_skipped_not_failed(tmp_path, served):
    replay, _ = served
    for f in (replay / "occ").iterdir():
        if f.name.startswith("volume-query"):
            f.write_bytes(b"<html><body>No data found for the selected criteria</body></html>")
    result = materialize(tmp_path / "home", LATEST)
    assert result.success
    assert Lake(tmp_path / "home" / "lake").latest(lo.OCC_VOLUME_DATASET, lo.lake_partition(LATEST, "QQQ")) is None
    skipped = result.asset_materializations_for_node("raw__occ_volume")[0].metadata["skipped"].value
    assert "not published" in skipped[0] and "No data found" in skipped[0]
