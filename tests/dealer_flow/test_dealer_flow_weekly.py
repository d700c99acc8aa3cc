"""marts.dealer_flow_weekly on a small multi-source home: FINRA weekly (7 weeks, the last one Tier 1 only), Reg SHO,
short interest, fails-to-deliver and options (SPY, QQQ) landed directly, then one `build_all`.

Statuses are checked against what was landed; values against the source marts; ATS persistence against an
independent Python computation of the trailing median and the run of weeks above it."""

from datetime import date, timedelta
from statistics import median

import duckdb
import pytest

import small_lake as sl
from dagster_project.runner import DBT_TAG_LAKE_DATASETS, build_all, dealer_flow_summary
from dagster_project.settings import Paths

pytestmark = pytest.mark.xdist_group("dealer_flow")

WEEKS = [date(2025, 8, 18) + timedelta(days=7 * i) for i in range(7)]
FULL_WEEK, LAST_WEEK = WEEKS[-2], WEEKS[-1]          # 2025-09-22 (every source), 2025-09-29 (partial)
OPTION_DAYS = [date(2025, 9, 26), date(2025, 9, 29)]  # the full week's Friday, the last week's Monday


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    home = tmp_path_factory.mktemp("dealer_flow_home")
    mp = pytest.MonkeyPatch()
    mp.setenv("DEALERFLOW_HOME", str(home))
    p = Paths(home)
    for week in WEEKS[:-1]:
        sl.land_finra_week(p, week)
    sl.land_finra_week(p, LAST_WEEK, tiers=("T1",))
    sl.land_regsho(p, FULL_WEEK, LAST_WEEK + timedelta(days=1))
    sl.land_short_interest(p, [date(2025, 9, 15)])
    sl.land_ftd(p, FULL_WEEK, FULL_WEEK + timedelta(days=4))   # 202509b only
    sl.land_options(p, OPTION_DAYS)
    build_all(p)
    yield p
    mp.undo()


def rows(p: Paths, sql: str, params=None) -> list[dict]:
    con = duckdb.connect(str(p.warehouse), read_only=True)
    try:
        cursor = con.execute(sql, params or [])
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, r)) for r in cursor.fetchall()]
    finally:
        con.close()


def flow(p: Paths, symbol: str, week: date) -> dict:
    found = rows(p, "select * from marts.dealer_flow_weekly where symbol = ? and week_start_date = ?", [symbol, week])
    assert len(found) == 1, (symbol, week, found)
    return found[0]


def test_dealer_flow_tag_needs_finra_weekly_only():
    assert DBT_TAG_LAKE_DATASETS["dealer_flow"] == ("finra_weekly",)


@pytest.mark.parametrize("symbol", ["SPY", "QQQ"])
def test_full_week_has_every_source_with_statuses(warehouse, symbol):
    row = flow(warehouse, symbol, FULL_WEEK)
    assert (row["gex_status"], row["occ_status"], row["finra_status"], row["short_volume_status"], row["ftd_status"],
            row["short_interest_status"]) == ("final", "provisional", "final", "final", "final", "final")
    # GEX of the week's last session (Friday), OCC of the one landed day, FINRA and Reg SHO of the week.
    gex = rows(warehouse, "select * from marts.gex_levels_daily where underlying = ? and as_of_date = ?",
               [symbol, OPTION_DAYS[0]])[0]
    assert row["gex_as_of_date"] == OPTION_DAYS[0] and row["gex_published_on"] == OPTION_DAYS[0]
    assert (row["total_gex_usd_per_1pct"], row["call_wall"], row["put_wall"], row["gex_regime"]) == \
        (gex["total_gex_usd_per_1pct"], gex["call_wall"], gex["put_wall"], gex["regime"])
    occ = {r["account_type"]: r for r in rows(warehouse, "select * from marts.occ_volume_daily where underlying = ? "
                                                          "and trade_date = ?", [symbol, OPTION_DAYS[0]])}
    assert row["occ_customer_call_contracts"] == occ["customer"]["call_contracts"]
    assert row["occ_market_maker_put_contracts"] == occ["market_maker"]["put_contracts"]
    assert row["occ_total_contracts"] == sum(r["total_contracts"] for r in occ.values())
    assert row["occ_customer_put_call_ratio"] == pytest.approx(
        occ["customer"]["put_contracts"] / occ["customer"]["call_contracts"])
    finra = rows(warehouse, "select * from marts.symbol_offexchange_weekly where symbol = ? and week_start_date = ?",
                 [symbol, FULL_WEEK])[0]
    assert (row["finra_tier"], row["ats_fraction"], row["venue_hhi"], row["top_venue"]) == \
        ("T1", finra["ats_fraction"], finra["venue_hhi"], finra["top_venue"])
    assert row["finra_published_on"] == sl.due(FULL_WEEK, "T1")   # synthetic lastUpdateDate = the due date
    short = rows(warehouse, "select * from marts.short_volume_weekly where symbol = ? and week_start_date = ?",
                 [symbol, FULL_WEEK])[0]
    assert row["short_ratio"] == short["short_ratio"] and row["short_volume_trading_days"] == 5
    assert row["short_volume_published_on"] == FULL_WEEK + timedelta(days=4)
    assert row["short_interest_settlement_date"] == date(2025, 9, 15) and row["short_interest"] is not None
    assert "non-directional" in row["caveats"].lower() and "dealers long calls and short puts" in row["caveats"]


def test_partial_week_is_provisional(warehouse):
    row = flow(warehouse, "SPY", LAST_WEEK)
    assert (row["gex_status"], row["occ_status"], row["finra_status"], row["short_volume_status"], row["ftd_status"],
            row["short_interest_status"]) == ("provisional",) * 6
    assert row["short_volume_trading_days"] == 2
    assert "FINRA week provisional" in row["caveats"] and "before the week's last session" in row["caveats"]


def test_weeks_without_options_or_short_volume_say_missing(warehouse):
    row = flow(warehouse, "SPY", WEEKS[0])
    assert (row["gex_status"], row["occ_status"], row["short_volume_status"], row["finra_status"]) == \
        ("missing", "missing", "missing", "final")
    assert row["total_gex_usd_per_1pct"] is None and "no options GEX" in row["caveats"]
    assert row["ats_persistence_weeks"] is None and "needs 4 earlier weeks" in row["caveats"]


def test_ats_persistence_matches_an_independent_computation(warehouse):
    """Median over the previous 12 calendar weeks (this one excluded), null below 4 weeks of history; the run of
    consecutive weeks above it, broken by a missing week."""
    source = rows(warehouse, """select symbol, week_start_date, ats_share_quantity, offexchange_share_quantity, tier
                                from marts.symbol_offexchange_weekly order by symbol, week_start_date""")
    by_symbol: dict[str, list[tuple[date, float | None]]] = {}
    for r in source:
        fraction = None if not r["offexchange_share_quantity"] else \
            float(r["ats_share_quantity"]) / float(r["offexchange_share_quantity"])
        by_symbol.setdefault(r["symbol"], []).append((r["week_start_date"], fraction))
    expected = {}
    for symbol, history in by_symbol.items():
        run, previous_week = 0, None
        for week, fraction in history:
            window = [f for w, f in history if week - timedelta(days=84) <= w <= week - timedelta(days=7) and f is not None]
            if len(window) < 4 or fraction is None:
                persistence, run = None, 0
            elif fraction > median(window):
                run = run + 1 if previous_week == week - timedelta(days=7) else 1
                persistence = run
            else:
                persistence, run = 0, 0
            expected[(symbol, week)] = persistence
            previous_week = week
    actual = {(r["symbol"], r["week_start_date"]): r["ats_persistence_weeks"]
              for r in rows(warehouse, "select symbol, week_start_date, ats_persistence_weeks from marts.dealer_flow_weekly "
                                       "where finra_status <> 'missing'")}
    assert actual == expected
    assert any(v and v >= 2 for v in actual.values()) and any(v == 0 for v in actual.values())


def test_row_universe_and_summary(warehouse):
    symbols = {r["symbol"] for r in rows(warehouse, "select distinct symbol from marts.symbol_offexchange_weekly")}
    flow_symbols = {r["symbol"] for r in rows(warehouse, "select distinct symbol from marts.dealer_flow_weekly")}
    assert flow_symbols == symbols  # SPY and QQQ have FINRA rows too: no options-only symbol here
    text = dealer_flow_summary(warehouse)
    assert "SPY" in text and "QQQ" in text and "[provisional]" in text
