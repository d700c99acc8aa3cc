"""Options end to end on synthetic chains: Dagster run (1 trade date x SPX, NDX) → lake → GEX → dbt marts → BI snapshot."""

from datetime import date, timezone

import dagster as dg
import duckdb
import pytest

from dagster_project import gex
from dagster_project.assets.options import GEX_KEY
from dagster_project.lake import Lake
from dagster_project.landing import options as lo
from dagster_project.runner import run_options
from dagster_project.settings import Paths

pytestmark = pytest.mark.xdist_group("options_e2e")

D = date(2026, 11, 18)  # a Wednesday whose chains and OCC reports are long due
UNDERLYINGS = ["SPX", "NDX"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    p = Paths(tmp_path_factory.mktemp("options_e2e") / "home")
    output = run_options(D, D, UNDERLYINGS, "synthetic", p=p)
    return p, output


def query(p: Paths, sql: str, params=None):
    with duckdb.connect(str(p.bi_snapshot), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_every_dataset_landed_once_per_partition(built):
    p, output = built
    assert "succeeded" in output
    lake = Lake(p.lake)
    for dataset in (lo.CHAIN_DATASET, lo.OCC_VOLUME_DATASET, lo.OCC_SERIES_DATASET, lo.GEX_DATASET):
        assert sorted(x["underlying"] for x in lake.partitions(dataset)) == sorted(UNDERLYINGS), dataset
        for u in UNDERLYINGS:
            assert len(lake.versions(dataset, lo.lake_partition(D, u))) == 1
    series = lake.latest(lo.OCC_SERIES_DATASET, lo.lake_partition(D, "SPX"))
    assert series.manifest["facts"]["captured_at"] == lo.replay_captured_at(D).isoformat()
    excluded = series.manifest["facts"]["excluded_roots"]  # the synthetic snapshot carries one adjusted series
    assert sum(excluded.values()) == 1 and all(root[0].isdigit() for root in excluded)


@pytest.mark.parametrize("underlying", UNDERLYINGS)
def test_levels_mart_equals_compute_gex_on_the_landed_chain(built, underlying):
    p, _ = built
    _, chain = lo.read_chain(Lake(p.lake), D, underlying)
    s = gex.compute_gex(chain).summary
    row = query(p, """select spot, total_gex_usd_per_1pct, total_gex_usd_per_1pct_source_gamma, total_gex_shares_per_pt,
                             zero_gamma, zero_gamma_crossings, call_wall, put_wall, gex_0dte_share, quote_time,
                             time_convention, put_dealer_sign, n_gamma_unavailable
                      from marts.gex_levels_daily where as_of_date = ? and underlying = ?""", [D, underlying])
    assert len(row) == 1
    (spot, total, total_src, shares, zero, crossings, call_wall, put_wall, share_0dte, quote_time, convention,
     put_sign, unavailable) = row[0]
    assert float(spot) == pytest.approx(s["spot"], abs=5e-5)
    assert float(total) == pytest.approx(s["total_gex_usd_per_1pct"], abs=0.005)
    assert float(total_src) == pytest.approx(s["total_gex_source_usd_per_1pct"], abs=0.005)
    assert float(shares) == pytest.approx(s["total_gex_shares_per_pt"], abs=5e-5)
    assert zero == s["zero_gamma_level"] and crossings == s["zero_gamma_crossings"]
    assert (float(call_wall), float(put_wall)) == (s["call_wall_strike"], s["put_wall_strike"])
    assert share_0dte == pytest.approx(s["share_0dte_of_gross_abs_gex"], rel=1e-12)
    assert quote_time.astimezone(timezone.utc) == s["quote_time"].astimezone(timezone.utc)
    assert (convention, put_sign, unavailable) == ("busdays_262", -1.0, s["n_gamma_unavailable"])


def test_by_strike_mart_adds_up_to_the_levels(built):
    p, _ = built
    rows = query(p, """select b.underlying, sum(b.net_gex_usd_per_1pct), max(l.total_gex_usd_per_1pct), count(*),
                              sum(b.call_open_interest + b.put_open_interest)
                       from marts.gex_by_strike as b join marts.gex_levels_daily as l using (as_of_date, underlying)
                       group by 1 order by 1""")
    assert [r[0] for r in rows] == ["NDX", "SPX"]
    for underlying, by_strike_total, level_total, n, oi in rows:
        assert n > 500 and oi > 0
        assert abs(by_strike_total - level_total) <= n * 0.01  # per-row rounding to cents
    _, chain = lo.read_chain(Lake(p.lake), D, "SPX")
    assert rows[1][4] == sum(chain.column("open_interest").to_pylist())


def test_occ_volume_mart_matches_the_landed_rows(built):
    p, _ = built
    rows = query(p, """select underlying, account_type, call_contracts, put_contracts, total_contracts
                       from marts.occ_volume_daily where trade_date = ? order by 1, 2""", [D])
    assert {(u, a) for u, a, *_ in rows} == {(u, a) for u in UNDERLYINGS for a in ("customer", "firm", "market_maker")}
    lake = Lake(p.lake)
    for u in UNDERLYINGS:
        import pyarrow.parquet as pq

        raw = pq.read_table(lake.latest(lo.OCC_VOLUME_DATASET, lo.lake_partition(D, u)).data_path).to_pandas()
        assert sum(r[4] for r in rows if r[0] == u) == int(raw["quantity"].sum())
        calls = int(raw.loc[raw["porc"] == "C", "quantity"].sum())
        assert sum(r[2] for r in rows if r[0] == u) == calls


def test_marts_hold_no_landing_metadata(built):
    p, _ = built
    columns = query(p, """select table_name, column_name from information_schema.columns
                          where table_schema = 'marts' and table_name in ('gex_levels_daily', 'gex_by_strike',
                                                                          'occ_volume_daily')""")
    assert len({t for t, _ in columns}) == 3
    assert not [c for _, c in columns if "version" in c or "landed" in c or c.startswith("_")]


def test_checks_passed_and_charts_are_attached(built):
    from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

    p, _ = built
    with dg.DagsterInstance.from_config(str(p.dagster_home)) as instance:
        event = instance.get_latest_materialization_event(GEX_KEY)
        metadata = event.asset_materialization.metadata
        assert "data:image/png;base64," in metadata["SPX_charts"].value
        assert metadata["SPX_gex_profile_path"].value.endswith("payload/gex_profile.png")
        assert metadata["partitions_landed"].value == 2
        for name in (*lo.BLOCKING_CHECKS, *lo.WARNING_CHECKS):
            history = instance.event_log_storage.get_asset_check_execution_history(dg.AssetCheckKey(GEX_KEY, name), 1)
            assert history and history[0].status == AssetCheckExecutionRecordStatus.SUCCEEDED, name
    png = Lake(p.lake).latest(lo.GEX_DATASET, lo.lake_partition(D, "SPX")).path / "payload" / "gex_by_strike.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
