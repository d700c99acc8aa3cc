"""Every real Reg SHO, short-interest and SEC fails-to-deliver file through `dealerflow import` and `dealerflow build`.

Expected totals are summed independently from the files with the csv module (never through dealerflow's parsers).
The build runs twice: first without CNMSshvol20200102.txt, so 2020-01-02's NMS rows must come from the sum of the
facility files; then with it, so they must come from CNMS alone (never both: totals unchanged, no duplicates).
"""

import csv
import io
import zipfile
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from dagster_project.cli import main
from dagster_project.settings import Paths
from support.realdata import REALDATA, realdata_path

pytestmark = [pytest.mark.realdata, pytest.mark.slow, pytest.mark.xdist_group("short_realdata")]

REGSHO = REALDATA / "finra_regsho"
SHORT_INTEREST = REALDATA / "finra_short_interest"
FTD = REALDATA / "sec_ftd"
HELD_BACK = "CNMSshvol20200102.txt"
FACILITY_FILES = ("FNSQ", "FNQC", "FNYX", "FNRA")


# ------------------------------------------------------------------------------------------ independent sums

def regsho_rows(path: Path) -> list[dict]:
    """Data rows of a Reg SHO file (header and the count trailer line excluded)."""
    lines = path.read_text().splitlines()
    return [row for row in csv.DictReader(io.StringIO("\n".join(lines[:-1])), delimiter="|")]


def regsho_sums(paths: list[Path]) -> tuple[int, Decimal, Decimal, Decimal]:
    rows = [r for p in paths for r in regsho_rows(p)]
    return (len(rows), sum((Decimal(r["ShortVolume"]) for r in rows), Decimal(0)),
            sum((Decimal(r["ShortExemptVolume"]) for r in rows), Decimal(0)),
            sum((Decimal(r["TotalVolume"]) for r in rows), Decimal(0)))


def ftd_text(path: Path) -> str:
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return archive.read(archive.namelist()[0]).decode()
    return path.read_text()


def ftd_sums(path: Path) -> tuple[int, int, Decimal, str, str]:
    """rows, total quantity, total notional (rows with a price), first and last settlement date."""
    lines = [line for line in ftd_text(path).splitlines() if line.strip() and not line.startswith("Trailer")]
    rows = list(csv.DictReader(io.StringIO("\n".join(lines)), delimiter="|"))
    notional = sum((int(r["QUANTITY (FAILS)"]) * Decimal(r["PRICE"]) for r in rows if r["PRICE"].strip() not in ("", ".")),
                   Decimal(0))
    dates = sorted(r["SETTLEMENT DATE"] for r in rows)
    return len(rows), sum(int(r["QUANTITY (FAILS)"]) for r in rows), notional, dates[0], dates[-1]


def ftd_trailer(path: Path) -> tuple[int, int]:
    lines = ftd_text(path).splitlines()
    return int(lines[-2].split()[-1]), int(lines[-1].split()[-1])


def browser_sums(paths: list[Path]) -> tuple[int, int, int]:
    rows = [r for p in paths for r in csv.DictReader(io.StringIO(p.read_text(), newline=""))]
    return len(rows), sum(int(r["currentShortShareNumber"]) for r in rows), sum(int(r["previousShortShareNumber"]) for r in rows)


def standardized_sums(path: Path) -> tuple[int, int, int, int]:
    rows = list(csv.DictReader(io.StringIO(path.read_text(), newline="")))
    return (len(rows), sum(int(r["currentShortPositionQuantity"]) for r in rows),
            sum(int(r["averageDailyVolumeQuantity"]) for r in rows), sum(r["revisionFlag"] == "R" for r in rows))


# ------------------------------------------------------------------------------------------ pipeline

def cli(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def query(p: Paths, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(p.bi_snapshot), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    """(facility-sum stage snapshot rows, final Paths) after importing every real file."""
    realdata_path("finra_regsho", HELD_BACK)  # skips (fails in CI) without the real files
    p = Paths(tmp_path_factory.mktemp("short_realdata"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DEALERFLOW_HOME", str(p.home))
        regsho = sorted(f for f in REGSHO.glob("*.txt") if f.name != HELD_BACK)
        cli("import", "regsho", *map(str, regsho))
        cli("import", "short-interest", *map(str, sorted(SHORT_INTEREST.glob("*_-Equity_Short_Intrest_*.csv"))))
        cli("import", "short-interest", str(SHORT_INTEREST / "otcMarket_equityShortInterestStandardized.txt"))
        cli("import", "ftd", *map(str, sorted(FTD.glob("*.zip"))))
        rejected = CliRunner().invoke(main, ["import", "ftd", str(FTD / "cnsfails202101b.txt")])
        cli("import", "ftd", "--no-trailer", str(FTD / "cnsfails202101b.txt"))
        cli("build")
        stage_one = query(p, """select symbol, short_volume, short_exempt_volume, total_volume, volume_source, facility_markets
                                from marts.short_volume_daily where trade_date = date '2020-01-02' and market_segment = 'NMS'""")
        cli("import", "regsho", str(REGSHO / HELD_BACK))
        cli("build")
    return {"p": p, "stage_one": stage_one, "rejected": rejected}


def test_trailerless_ftd_file_is_rejected_and_quarantined_unless_flagged(homes):
    rejected, p = homes["rejected"], homes["p"]
    assert rejected.exit_code != 0
    assert "cnsfails202101b.txt, line 55974: no trailer lines" in rejected.output
    quarantined = list((p.quarantine / "sec_ftd").glob("*/cnsfails202101b.txt"))
    assert len(quarantined) == 1 and quarantined[0].read_bytes() == (FTD / "cnsfails202101b.txt").read_bytes()
    assert "no trailer" in (quarantined[0].parent / "REASON.txt").read_text()
    # With --no-trailer the same file landed; its version says nothing was reconciled.
    assert query(p, "select has_trailer, row_count from staging.stg_lake__sec_ftd_versions where period = '202101b'") \
        == [(False, 55972)]


def test_nms_rows_use_the_facility_sum_without_cnms_then_cnms_alone(homes):
    stage_one, p = homes["stage_one"], homes["p"]
    facility_paths = [REGSHO / f"{f}shvol20200102.txt" for f in FACILITY_FILES]
    cnms = {r["Symbol"]: (Decimal(r["ShortVolume"]), Decimal(r["ShortExemptVolume"]), Decimal(r["TotalVolume"]))
            for r in regsho_rows(REGSHO / HELD_BACK)}
    by_symbol = {s: (sv, sev, tv) for s, sv, sev, tv, _, _ in stage_one}
    assert {src for *_, src, _ in stage_one} == {"facility_sum"}
    # FINRA's CNMS is the per-symbol sum of the facility files: the facility-sum rows reproduce it exactly.
    assert by_symbol == cnms and len(stage_one) == 8172
    assert regsho_sums(facility_paths)[1:] == regsho_sums([REGSHO / HELD_BACK])[1:]
    after = query(p, """select volume_source, count(*), sum(short_volume), sum(short_exempt_volume), sum(total_volume)
                        from marts.short_volume_daily where trade_date = date '2020-01-02' and market_segment = 'NMS'
                        group by 1""")
    n, sv, sev, tv = regsho_sums([REGSHO / HELD_BACK])
    assert after == [("CNMS", n, sv, sev, tv)]  # CNMS only: never CNMS plus the facilities


def test_short_volume_daily_totals_equal_the_files(homes):
    p = homes["p"]
    got = {(d.isoformat(), seg): rest for d, seg, *rest in query(
        p, """select trade_date, market_segment, count(*), sum(short_volume), sum(short_exempt_volume), sum(total_volume)
              from marts.short_volume_daily group by 1, 2""")}
    expected = {}
    for path in sorted(REGSHO.glob("CNMSshvol*.txt")):
        day = datetime.strptime(path.stem[-8:], "%Y%m%d").date().isoformat()
        expected[(day, "NMS")] = list(regsho_sums([path]))
    expected[("2020-01-02", "OTC")] = list(regsho_sums([REGSHO / "FORFshvol20200102.txt"]))
    assert got == expected
    assert expected[("2021-04-27", "NMS")][0] == 9714 and expected[("2020-01-02", "OTC")][0] == 3149
    # Weekly rollup (FINRA weeks start on Monday): 2019-12-30 holds Jan 2-3, 2020-01-06 holds Jan 6-9.
    weekly = query(p, """select week_start_date, sum(total_volume), max(trading_days) from marts.short_volume_weekly
                         where market_segment = 'NMS' group by 1 order by 1""")
    daily = defaultdict(Decimal)
    for (day, seg), (_, _, _, tv) in expected.items():
        if seg == "NMS":
            d = date.fromisoformat(day)
            daily[date.fromordinal(d.toordinal() - d.weekday())] += tv
    assert [(w, t) for w, t, _ in weekly] == sorted(daily.items())
    assert [m for *_, m in weekly] == [2, 4, 1]
    # The empty FNRA file (header + trailer 0) landed as an empty version.
    assert query(p, """select row_count, trailer_count from staging.stg_lake__regsho_daily_versions
                       where facility = 'FNRA'""") == [(0, 0)]


def test_fails_to_deliver_totals_equal_the_files_and_trailers(homes):
    p = homes["p"]
    got = {period: rest for period, *rest in query(
        p, """select period, count(*), sum(quantity), sum(notional), min(settlement_date), max(settlement_date)
              from marts.fails_to_deliver group by 1""")}
    files = {"202009a": FTD / "cnsfails202009a.zip", "202103b": FTD / "cnsfails202104b.zip",  # holds the 202103b file
             "202101b": FTD / "cnsfails202101b.txt"}
    for period, path in files.items():
        n, qty, notional, first, last = ftd_sums(path)
        assert got[period] == [n, qty, notional, datetime.strptime(first, "%Y%m%d").date(),
                               datetime.strptime(last, "%Y%m%d").date()], period
    assert ftd_trailer(files["202009a"]) == (43147, 1056731899) == tuple(got["202009a"][:2])
    assert ftd_trailer(files["202103b"]) == (75011, 2423589858) == tuple(got["202103b"][:2])
    weekly_total = query(p, "select sum(fail_share_days) from marts.fails_to_deliver_weekly")[0][0]
    assert weekly_total == sum(v[1] for v in got.values())
    # The SEC zip stamps match the calendar's expected publication dates: nothing is flagged as early.
    assert query(p, "select period, member_stamp, due_date, published_before_due from intermediate.int_sec_ftd_current_versions "
                    "where member_stamp is not null order by 1") == [
        ("202009a", date(2020, 9, 30), date(2020, 9, 30), False), ("202103b", date(2021, 4, 15), date(2021, 4, 15), False)]


def test_short_interest_totals_equal_the_files(homes):
    p = homes["p"]
    got = {d: rest for d, *rest in query(
        p, """select settlement_date, count(*), sum(current_short), sum(previous_short), sum(avg_daily_volume),
                     count(*) filter (where revision_flag), min(source_format), min(due_date)
              from marts.short_interest group by 1""")}
    n, current, previous = browser_sums(sorted(SHORT_INTEREST.glob("*_-Equity_Short_Intrest_*.csv")))
    assert got[date(2024, 8, 15)][:3] == [n, current, previous] and n == 8678
    assert got[date(2024, 8, 15)][4:] == [0, "finra_browser_csv", date(2024, 8, 26)]
    n, current, adv, revised = standardized_sums(SHORT_INTEREST / "otcMarket_equityShortInterestStandardized.txt")
    assert got[date(2020, 12, 31)][0:2] == [n, current] and got[date(2020, 12, 31)][3:5] == [adv, revised] == [adv, 5]
    assert got[date(2020, 12, 31)][5:] == ["finra_api_csv", date(2021, 1, 12)]


def test_dark_short_index_is_share_weighted_and_labelled_without_prices(homes):
    rows = query(homes["p"], """select trade_date, universe, weighting, price_source, dark_short_index,
                                       short_ratio_share_weighted, short_volume, total_volume
                                from marts.dark_short_index_daily order by 1""")
    assert len(rows) == 7  # the seven CNMS trade dates; no FTD price falls within a week of them
    for _, universe, weighting, source, dix, share_weighted, sv, tv in rows:
        assert (universe, weighting, source) == ("all_nms_symbols", "shares", None)
        assert dix == share_weighted == pytest.approx(float(sv / tv), rel=1e-12)
