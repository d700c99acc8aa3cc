"""Short and settlement data end to end through Dagster on synthetic and replayed upstream files, and failing checks."""

import zipfile
from datetime import date, datetime, timezone

import duckdb
import pyarrow.parquet as pq
import pytest

from dagster_project.errors import DealerflowError, ParseError, ReconciliationError
from dagster_project.lake import Lake
from dagster_project.publication_calendar import business_days
from dagster_project.landing.short_data import (
    FTD_DATASET,
    REGSHO_DATASET,
    import_ftd_files,
    land_regsho_bytes,
    synthetic_universe,
)
from dagster_project.runner import run_short_data, short_data_summary
from dagster_project.settings import Paths
from dagster_project.sources.regsho import regsho_path
from dagster_project.synthetic.short_data import write_ftd_files, write_regsho_files

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("short_e2e")]

START, END = date(2026, 10, 12), date(2026, 10, 16)   # one FINRA week; FTD 202610a and 202610b (due 11-02, 11-16)
SETTLEMENT_WINDOW = (date(2026, 10, 15), date(2026, 10, 15))
SCALE = 0.02


def query(p: Paths, sql: str) -> list[tuple]:
    with duckdb.connect(str(p.bi_snapshot), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    p = Paths(tmp_path_factory.mktemp("short_e2e"))
    output = run_short_data(START, END, ["regsho", "short-interest", "ftd"], "synthetic", None, SCALE, p=p,
                            windows={"short-interest": SETTLEMENT_WINDOW})
    return p, output


def test_synthetic_run_lands_every_partition_and_builds_the_marts(built):
    p, output = built
    assert "regsho 2026-10-12..2026-10-16 (5 partitions) succeeded" in output
    assert "short-interest 2026-10-15..2026-10-15 (1 partitions) succeeded" in output
    assert "ftd 202610a..202610b (2 partitions) succeeded; short_data marts rebuilt" in output
    lake = Lake(p.lake)
    assert len(lake.partitions(REGSHO_DATASET)) == 5 * 6 and len(lake.partitions(FTD_DATASET)) == 2
    nms, _, otc = synthetic_universe(20240101, SCALE)
    # Mart totals equal the sums of the landed CNMS and FORF rows, read straight from the lake.
    cnms = [pq.read_table(v.data_path) for part in lake.partitions(REGSHO_DATASET) if part["facility"] in ("CNMS", "FORF")
            for v in [lake.latest(REGSHO_DATASET, part)]]
    expected = sum(sum(t["total_volume"].to_pylist()) for t in cnms)
    got, rows, symbols = query(p, "select sum(total_volume), count(*), count(distinct symbol) from marts.short_volume_daily")[0]
    assert got == expected and rows == 5 * (len(nms) + len(otc)) and symbols == len(nms) + len(otc)
    assert query(p, "select count(*) from marts.short_interest")[0][0] == len(nms) + len(otc)
    ftd = query(p, "select count(*), sum(quantity), count(distinct settlement_date) from marts.fails_to_deliver")[0]
    landed = [pq.read_table(lake.latest(FTD_DATASET, {"period": k}).data_path) for k in ("202610a", "202610b")]
    assert ftd == (sum(t.num_rows for t in landed), sum(sum(t["quantity"].to_pylist()) for t in landed),
                   len(business_days(date(2026, 10, 1), date(2026, 10, 31))))  # whole half-months are fetched


def test_dark_short_index_weights_by_ftd_prices_and_says_so(built):
    p, _ = built
    rows = query(p, """select trade_date, universe, weighting, price_source, symbols_priced, dark_short_index
                       from marts.dark_short_index_daily order by 1""")
    assert [r[0] for r in rows] == [date(2026, 10, d) for d in range(12, 17)]
    # FTD prices (previous close) cover every October trading day, so every day is dollar-weighted, source stated.
    assert {(r[1], r[2], r[3]) for r in rows} == {("all_nms_symbols", "dollars", "sec_ftd_previous_close")}
    assert all(r[4] > 0 and 0 < r[5] < 1 for r in rows)


def test_checks_passed_and_summary(built):
    p, _ = built
    text = short_data_summary(p)
    assert "marts.short_volume_daily" in text and "all_nms_symbols/dollars" in text


def test_bad_regsho_file_fails_the_run_and_is_quarantined(tmp_path):
    replay = tmp_path / "replay"
    nms, volume, otc = synthetic_universe(1, SCALE)
    write_regsho_files(replay, nms, START, START, seed=1, typical_volume=volume, otc_symbols=otc)
    target = replay / "finra_cdn" / regsho_path("CNMS", START)
    lines = target.read_bytes().split(b"\r\n")
    lines[-2] = str(int(lines[-2]) + 1).encode()   # the trailer now claims one record too many
    target.write_bytes(b"\r\n".join(lines))
    p = Paths(tmp_path / "home")
    with pytest.raises(DealerflowError, match=r"CNMSshvol20261012.txt.*trailer says \d+ records"):
        run_short_data(START, START, ["regsho"], "replay", str(replay), p=p)
    assert list((p.quarantine / REGSHO_DATASET).glob("*/CNMSshvol20261012.txt"))


def test_landing_rejects_bad_files_and_flags_early_publication(tmp_path):
    lake = Lake(tmp_path / "lake")
    write_ftd_files(tmp_path / "src", ["AAPL", "GME"], START, START, seed=3)
    zip_path = next((tmp_path / "src" / "sec").glob("files/**/cnsfails202610a.zip"))
    with zipfile.ZipFile(zip_path) as archive:
        text = archive.read(archive.namelist()[0]).decode()
    bad = tmp_path / "cnsfails202610a.txt"
    bad.write_text(text.replace("Trailer total quantity of shares ", "Trailer total quantity of shares 1"))
    with pytest.raises(ReconciliationError, match=r"cnsfails202610a.txt, line \d+: trailer total quantity .*quarantined"):
        import_ftd_files([bad], lake)
    # Short volume above total volume names the file and line.
    header = b"Date|Symbol|ShortVolume|ShortExemptVolume|TotalVolume|Market\r\n"
    with pytest.raises(ParseError, match=r"FNSQshvol20261012.txt, line 2: ShortVolume 11 exceeds TotalVolume 10"):
        land_regsho_bytes(lake, header + b"20261012|AAPL|11|0|10|Q\r\n1\r\n", "FNSQshvol20261012.txt",
                          "FNSQshvol20261012.txt", "test")
    kept = [q.name for q in (tmp_path / "quarantine").glob("*/*/*.txt") if q.name != "REASON.txt"]
    assert sorted(kept) == ["FNSQshvol20261012.txt", "cnsfails202610a.txt"]
    # A file fetched before 18:00 ET on its trade date is landed but flagged.
    early = datetime(2026, 10, 12, 21, 0, tzinfo=timezone.utc)  # 17:00 ET
    landed = land_regsho_bytes(lake, header + b"20261012|AAPL|5|0|10|Q\r\n1\r\n", "FNSQshvol20261012.txt",
                               "FNSQshvol20261012.txt", "test", fetched_at=early)
    assert landed.facts["published_before_due"] is True and landed.rows == 1
