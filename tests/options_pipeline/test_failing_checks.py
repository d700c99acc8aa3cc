"""Blocking GEX checks: a stale chain and a chain with negative open interest stop the run before the marts,
with a message naming the trade date and underlying; the raw chains stay in the lake, no GEX is landed."""

import json
from datetime import date

import pytest

from dagster_project.errors import DealerflowError
from dagster_project.lake import Lake
from dagster_project.landing import options as lo
from dagster_project.runner import run_options
from dagster_project.settings import Paths
from dagster_project.sources.cboe import delayed_quotes_path
from dagster_project.sources.transport import replay_relpath
from dagster_project.synthetic.options import write_replay

pytestmark = pytest.mark.xdist_group("options_checks")

D = date(2026, 11, 18)
STALE_QUOTE_DATE = date(2026, 11, 10)


def test_stale_and_negative_oi_chains_block_the_run(tmp_path):
    replay = tmp_path / "replay" / D.isoformat()
    write_replay(replay, STALE_QUOTE_DATE, ["SPX"])      # last week's SPX chain in today's folder
    write_replay(replay, D, ["NDX"])
    ndx = replay / "cboe" / replay_relpath(delayed_quotes_path("NDX"))
    doc = json.loads(ndx.read_bytes())
    doc["data"]["options"][7]["open_interest"] = -40
    ndx.write_text(json.dumps(doc))
    p = Paths(tmp_path / "home")

    with pytest.raises(DealerflowError) as err:
        run_options(D, D, ["SPX", "NDX"], "replay", str(tmp_path / "replay"), p=p)
    message = str(err.value)
    assert "check options_chain_fresh failed" in message and "2026-11-18 SPX: quote time 2026-11-10" in message
    assert "check options_oi_non_negative failed" in message and "2026-11-18 NDX: 1 contracts with negative" in message

    lake = Lake(p.lake)
    for u in ("SPX", "NDX"):
        assert lake.latest(lo.CHAIN_DATASET, lo.lake_partition(D, u)) is not None  # raw data kept
        assert lake.latest(lo.GEX_DATASET, lo.lake_partition(D, u)) is None        # nothing derived from it
    assert not p.bi_snapshot.exists()                                               # the marts were not built
