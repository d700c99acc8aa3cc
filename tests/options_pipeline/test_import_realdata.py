"""`dealerflow import cboe-chain` on the real Cboe SPX / NDX downloads, then `dealerflow build`: the mart equals gex.py.

The files are Saturday 2022-02-05 evening quotes (8:09 / 8:26 PM EST) of the Friday 2022-02-04 close, so they land as
trade date 2022-02-04 — the session the quote reflects — not 2022-02-05.
"""

from datetime import date, datetime, timezone

import duckdb
import pytest
from click.testing import CliRunner

from dagster_project import gex
from dagster_project.cli import main
from dagster_project.lake import Lake
from dagster_project.landing import options as lo
from dagster_project.settings import Paths
from dagster_project.sources.cboe import parse_quote_table_csv

pytestmark = [pytest.mark.realdata, pytest.mark.xdist_group("options_import")]

TRADE_DATE = date(2022, 2, 4)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    from support.realdata import realdata_path

    spx, ndx = realdata_path("options", "spx_quotedata.csv"), realdata_path("options", "ndx_quotedata.csv")
    home = tmp_path_factory.mktemp("options_import") / "home"
    mp = pytest.MonkeyPatch()
    mp.setenv("DEALERFLOW_HOME", str(home))
    try:
        runner = CliRunner()
        imported = runner.invoke(main, ["import", "cboe-chain", str(spx), str(ndx)])
        assert imported.exit_code == 0, imported.output
        built = runner.invoke(main, ["build"])
        assert built.exit_code == 0, built.output
    finally:
        mp.undo()
    return Paths(home), spx, ndx, imported.output


def test_files_land_under_the_trade_date_their_quote_reflects(imported):
    p, _, _, output = imported
    assert "2022-02-04 SPX: 20514 contracts" in output and "2022-02-04 NDX: 18386 contracts" in output
    lake = Lake(p.lake)
    assert sorted((x["date"], x["underlying"]) for x in lake.partitions(lo.CHAIN_DATASET)) == [
        ("2022-02-04", "NDX"), ("2022-02-04", "SPX")]
    version = lake.latest(lo.CHAIN_DATASET, lo.lake_partition(TRADE_DATE, "SPX"))
    assert (version.path / "payload" / "spx_quotedata.csv").is_file()
    assert version.manifest["facts"]["quote_time"] == "2022-02-06T01:09:00+00:00"


def test_spx_levels_row_equals_gex_on_the_same_file(imported):
    p, spx, _, _ = imported
    s = gex.compute_gex(parse_quote_table_csv(spx.read_bytes(), str(spx))).summary
    with duckdb.connect(str(p.bi_snapshot), read_only=True) as con:
        rows = con.execute("""select as_of_date, quote_time, spot, total_gex_usd_per_1pct,
                                     total_gex_usd_per_1pct_source_gamma, total_gex_shares_per_pt, zero_gamma,
                                     zero_gamma_crossings, call_wall, put_wall, n_gamma_unavailable, regime
                              from marts.gex_levels_daily where underlying = 'SPX'""").fetchall()
    assert len(rows) == 1
    (as_of, quote_time, spot, total, total_src, shares, zero, crossings, call_wall, put_wall, unavailable,
     regime) = rows[0]
    assert as_of == TRADE_DATE and quote_time.astimezone(timezone.utc) == datetime(2022, 2, 6, 1, 9, tzinfo=timezone.utc)
    assert float(spot) == s["spot"] == 4500.5298
    assert float(total) == pytest.approx(s["total_gex_usd_per_1pct"], abs=0.005)
    assert float(total_src) == pytest.approx(s["total_gex_source_usd_per_1pct"], abs=0.005)
    assert float(shares) == pytest.approx(s["total_gex_shares_per_pt"], abs=5e-5)
    assert zero == s["zero_gamma_level"] and crossings == s["zero_gamma_crossings"] == 1
    assert (float(call_wall), float(put_wall)) == (s["call_wall_strike"], s["put_wall_strike"]) == (4700.0, 4500.0)
    assert unavailable == s["n_gamma_unavailable"] == 226 and regime == "negative"
    # the golden numbers of tests/options/test_gex_realdata.py, now read from the warehouse
    assert float(total_src) == pytest.approx(-19.156e9, rel=1e-3) and zero == pytest.approx(4585.18, abs=0.05)


def test_by_strike_mart_holds_the_files_open_interest(imported):
    p, spx, ndx, _ = imported
    with duckdb.connect(str(p.bi_snapshot), read_only=True) as con:
        oi = dict(con.execute("""select underlying, sum(call_open_interest + put_open_interest)
                                 from marts.gex_by_strike group by 1""").fetchall())
        occ_rows = con.execute("select count(*) from marts.occ_volume_daily").fetchone()[0]
    for underlying, path in (("SPX", spx), ("NDX", ndx)):
        table = parse_quote_table_csv(path.read_bytes(), str(path))
        assert oi[underlying] == sum(table.column("open_interest").to_pylist())
    assert occ_rows == 0  # no OCC data imported: the OCC models read an empty relation


def test_reimport_is_idempotent_and_a_bad_file_is_quarantined(imported, tmp_path, monkeypatch):
    p, spx, _, _ = imported
    monkeypatch.setenv("DEALERFLOW_HOME", str(p.home))
    again = CliRunner().invoke(main, ["import", "cboe-chain", str(spx)])
    assert again.exit_code == 0 and "unchanged" in again.output
    assert len(Lake(p.lake).versions(lo.GEX_DATASET, lo.lake_partition(TRADE_DATE, "SPX"))) == 1
    bad = tmp_path / "bad_quotedata.csv"
    lines = spx.read_text().splitlines()
    lines[10] = lines[10].replace(",", ";", 3)
    bad.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(main, ["import", "cboe-chain", str(bad)])
    assert result.exit_code != 0
    assert "bad_quotedata.csv, line 11" in result.output and "quarantined" in result.output
    assert list((p.home / "quarantine" / lo.CHAIN_DATASET).glob("*/bad_quotedata.csv"))
