"""Point in time: a build "as known on D" uses only partitions due, and versions published, by D -- judged by the
data's own publication dates (FINRA lastUpdateDate, Reg SHO due date / fetch date of a restatement), never by when
files were landed. Landing later publications (a new week, a FINRA restatement of an old week with a later
lastUpdateDate, later Reg SHO days, a re-fetched Reg SHO file with changed rows) must leave every mart of the as-of-D
build byte-identical, while the latest build shows the new data and the restated values."""

from datetime import date, datetime, timedelta, timezone

import duckdb
import pytest

import small_lake as sl
from dagster_project.landing.short_data import land_regsho_bytes
from dagster_project.lake import Lake
from dagster_project.runner import asof_warehouse_path, build_all, build_as_of
from dagster_project.settings import Paths

pytestmark = pytest.mark.xdist_group("asof")

W1, W2, W3, W4 = (date(2025, 9, 1) + timedelta(days=7 * i) for i in range(4))
#: Between W2's Tier 1 due date (2025-09-29) and W3's (2025-10-06); before the restatement of W1 (2025-10-20).
AS_OF = date(2025, 10, 1)
RESTATED_ON = date(2025, 10, 20)
REGSHO_RESTATED_DAY = date(2025, 9, 24)


#: Short volume of the restated FORF file's first row (its symbols come in file order; the first is the smallest).
_OTC_FIRST_SHORT = ("select short_volume from marts.short_volume_daily where trade_date = ? and market_segment = 'OTC' "
                    "order by symbol limit 1")


def _t1_ats_total(warehouse, week) -> float:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select sum(ats_share_quantity) from marts.symbol_offexchange_weekly "
                           "where week_start_date = ? and tier = 'T1'", [week]).fetchone()[0]
    finally:
        con.close()


def _restate_regsho_file(p: Paths, day: date) -> None:
    """FINRA re-posts one day's OTC (FORF) file with the first symbol's short volume changed, observed on 2025-10-15.
    (A changed CNMS file would no longer equal the sum of the facility files, which a dbt test rejects.)"""
    path = p.home / "synthetic" / "short" / "finra_cdn" / "equity" / "regsho" / "daily" / f"FORFshvol{day:%Y%m%d}.txt"
    lines = path.read_text().splitlines()
    fields = lines[1].split("|")
    fields[2] = str(int(float(fields[2])) // 2)  # ShortVolume halved: still <= TotalVolume
    lines[1] = "|".join(fields)
    land_regsho_bytes(Lake(p.lake), ("\n".join(lines) + "\n").encode(), str(path), path.name, "test restatement",
                      facility="FORF", trade_date=day, fetched_at=sl.fetched_at(date(2025, 10, 15)))


def test_as_of_build_ignores_later_publications(tmp_path, monkeypatch):
    monkeypatch.setenv("DEALERFLOW_HOME", str(tmp_path))
    p = Paths(tmp_path)
    for week in (W1, W2, W3):
        sl.land_finra_week(p, week)
    sl.land_regsho(p, W3 + timedelta(days=1), AS_OF)          # 2025-09-16 .. 2025-10-01, fetched on their dates

    first = build_as_of(AS_OF, p)
    assert first == asof_warehouse_path(p, AS_OF)
    before = sl.export_marts(first)
    assert {"symbol_offexchange_weekly", "short_volume_daily", "dealer_flow_weekly"} <= set(before)
    con = duckdb.connect(str(first), read_only=True)
    try:
        weeks = con.execute("select distinct week_start_date, tier from marts.symbol_offexchange_weekly "
                            "order by 1, 2").fetchall()
        regsho_days = con.execute("select max(trade_date) from marts.short_volume_daily").fetchone()[0]
        flow_weeks = con.execute("select distinct week_start_date from marts.dealer_flow_weekly order by 1").fetchall()
    finally:
        con.close()
    # As of 2025-10-01 only the Tier 1 files of W1 and W2 were published (W3 due 10-06, Tier 2/OTC 35 days late).
    assert weeks == [(W1, "T1"), (W2, "T1")]
    assert regsho_days == AS_OF
    assert flow_weeks == [(W1,), (W2,)]
    original_w1 = _t1_ats_total(first, W1)
    assert not (tmp_path / "warehouse" / "bi" / "dealerflow.duckdb").exists()  # the BI snapshot is never touched

    # Later publications: W4, FINRA's restatement of W1 (lastUpdateDate 2025-10-20), Reg SHO days after D and a
    # re-posted Reg SHO file of a day before D, observed after D.
    sl.land_finra_week(p, W4)
    sl.land_finra_week(p, W1, tiers=("T1",), frames={"T1": sl.restated(sl.finra_week_frame(W1, "T1"), RESTATED_ON)})
    sl.land_regsho(p, AS_OF + timedelta(days=1), date(2025, 10, 10))
    _restate_regsho_file(p, REGSHO_RESTATED_DAY)

    again = sl.export_marts(build_as_of(AS_OF, p))
    assert again.keys() == before.keys()
    changed = [name for name in before if again[name] != before[name]]
    assert not changed, f"marts changed as of {AS_OF} after later publications: {changed}"

    # The latest build sees everything: W3 and W4, the restated W1 (ATS quantities doubled) and the re-posted file.
    build_all(p)
    latest = tmp_path / "warehouse" / "dealerflow.duckdb"
    assert _t1_ats_total(latest, W1) == 2 * original_w1  # whole and half shares doubled: exact
    con = duckdb.connect(str(latest), read_only=True)
    try:
        assert {w for (w,) in con.execute("select distinct week_start_date from marts.dealer_flow_weekly").fetchall()} \
            == {W1, W2, W3, W4}
        assert con.execute("select max(trade_date) from marts.short_volume_daily").fetchone()[0] == date(2025, 10, 10)
        restated_short = con.execute(_OTC_FIRST_SHORT, [REGSHO_RESTATED_DAY]).fetchone()[0]
    finally:
        con.close()
    con = duckdb.connect(str(first), read_only=True)
    try:
        original_short = con.execute(_OTC_FIRST_SHORT, [REGSHO_RESTATED_DAY]).fetchone()[0]
    finally:
        con.close()
    assert restated_short < original_short
    assert datetime.now(timezone.utc).date() > RESTATED_ON  # the restatement is in the past: a real backfill case
