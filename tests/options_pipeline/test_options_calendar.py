"""The options rules in the one publication calendar: trade date of a quote, due times, the after-the-close schedule,
and the configurable underlyings."""

from datetime import date, datetime

import pytest

from dagster_project.partitions import date_underlyings_of, options_dbt_vars, options_underlyings
from dagster_project.publication_calendar import (
    EASTERN,
    calendar_rows,
    occ_due_at,
    options_chain_due_at,
    options_latest_due,
    options_trade_date_of_quote,
)
from dagster_project.schedules import options_requests


@pytest.mark.parametrize("quote, trade_date", [
    (datetime(2022, 2, 5, 20, 9, tzinfo=EASTERN), date(2022, 2, 4)),    # Saturday evening: Friday's close
    (datetime(2022, 2, 4, 16, 20, tzinfo=EASTERN), date(2022, 2, 4)),   # after the close, same day
    (datetime(2022, 2, 4, 11, 0, tzinfo=EASTERN), date(2022, 2, 4)),    # intraday belongs to the session
    (datetime(2022, 2, 7, 8, 0, tzinfo=EASTERN), date(2022, 2, 4)),     # Monday before the open: Friday's close
    (datetime(2022, 2, 22, 1, 30, tzinfo=EASTERN), date(2022, 2, 18)),  # after Presidents' Day (NYSE closed 02-21)
    (datetime.fromisoformat("2022-02-06T01:09:00+00:00"), date(2022, 2, 4)),  # the same quote in UTC
])
def test_trade_date_of_a_quote(quote, trade_date):
    assert options_trade_date_of_quote(quote) == trade_date


def test_due_times_and_calendar_rows():
    assert options_chain_due_at(date(2026, 11, 20)).isoformat() == "2026-11-20T16:15:00-05:00"
    assert occ_due_at(date(2026, 7, 2)).isoformat() == "2026-07-02T20:00:00-04:00"
    with pytest.raises(ValueError, match="not a business day"):
        occ_due_at(date(2026, 11, 26))  # Thanksgiving
    rows = calendar_rows("options-chain", date(2026, 11, 25), date(2026, 11, 30))
    assert [r["trade_date"] for r in rows] == [date(2026, 11, 25), date(2026, 11, 27), date(2026, 11, 30)]
    assert options_latest_due(datetime(2026, 11, 20, 16, 0, tzinfo=EASTERN)) == date(2026, 11, 19)
    assert options_latest_due(datetime(2026, 11, 20, 16, 15, tzinfo=EASTERN)) == date(2026, 11, 20)
    assert options_latest_due(datetime(2026, 11, 20, 19, 0, tzinfo=EASTERN), occ_due_at) == date(2026, 11, 19)


def test_after_the_close_schedule_requests():
    friday = date(2026, 11, 20)
    chain = options_requests(datetime(2026, 11, 20, 16, 30, tzinfo=EASTERN), ["SPX", "QQQ"])
    assert [str(r.partition_key) for r in chain] == ["2026-11-20|SPX", "2026-11-20|QQQ"]
    assert chain[0].run_key == f"options_daily|{friday}|SPX|chain"
    evening = options_requests(datetime(2026, 11, 20, 20, 15, tzinfo=EASTERN), ["SPX"])
    assert evening[0].run_key == f"options_daily|{friday}|SPX|occ"
    assert options_requests(datetime(2026, 11, 20, 15, 0, tzinfo=EASTERN), ["SPX"]) == []
    assert options_requests(datetime(2026, 11, 26, 16, 30, tzinfo=EASTERN), ["SPX"]) == []  # Thanksgiving


def test_underlyings_are_configurable(monkeypatch):
    monkeypatch.delenv("DEALERFLOW_OPTIONS_UNDERLYINGS", raising=False)
    assert options_underlyings() == ["SPX", "NDX", "SPY", "QQQ"]
    monkeypatch.setenv("DEALERFLOW_OPTIONS_UNDERLYINGS", "spx, rut,SPX")
    assert options_underlyings() == ["SPX", "RUT"]


def test_run_partitions_become_dbt_vars():
    pairs = date_underlyings_of(["2026-11-19|QQQ", "2026-11-18|SPX", "2026-11-19|SPX"])
    assert pairs == [(date(2026, 11, 18), "SPX"), (date(2026, 11, 19), "SPX"), (date(2026, 11, 19), "QQQ")]
    assert options_dbt_vars(pairs) == {"date_start": "2026-11-18", "date_end": "2026-11-19", "underlyings": ["QQQ", "SPX"]}
