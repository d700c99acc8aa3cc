"""The monthly publication rule (first business day on or after month end + 1 month), its schedule and partitions."""

from datetime import date

import pytest
from click.testing import CliRunner

from dagster_project.publication_calendar import calendar_rows, finra_monthly_due


@pytest.mark.parametrize(("month", "due", "why"), [
    (date(2016, 8, 1), date(2016, 9, 30), "first ATS block month: Aug 31 + 1 month = Fri Sep 30 (FINRA actually published 2016-10-03)"),
    (date(2026, 9, 1), date(2026, 10, 30), "Sep 30 + 1 month = Fri Oct 30"),
    (date(2026, 4, 1), date(2026, 6, 1), "Apr 30 + 1 month = Sat May 30 -> Mon Jun 1"),
    (date(2022, 4, 1), date(2022, 5, 31), "Apr 30 + 1 month = Mon May 30 2022, Memorial Day -> Tue May 31"),
    (date(2024, 2, 1), date(2024, 4, 1), "leap Feb 29 + 1 month = Mar 29 2024, Good Friday -> Mon Apr 1"),
    (date(2026, 1, 1), date(2026, 3, 2), "Jan 31 + 1 month = Sat Feb 28 (month-end clipped) -> Mon Mar 2"),
    (date(2024, 1, 1), date(2024, 2, 29), "Jan 31 + 1 month in a leap year = Thu Feb 29"),
    (date(2026, 2, 1), date(2026, 3, 30), "Feb 28 + 1 month = Sat Mar 28 -> Mon Mar 30"),
    (date(2025, 10, 1), date(2025, 12, 1), "Oct 31 + 1 month = Sun Nov 30 -> Mon Dec 1"),
    (date(2025, 11, 1), date(2025, 12, 30), "Nov 30 + 1 month = Tue Dec 30"),
    (date(2021, 11, 1), date(2021, 12, 30), "Nov 30 + 1 month = Thu Dec 30 2021 (Dec 31 2021 is a holiday, not reached)"),
])
def test_monthly_due_date(month, due, why):
    assert finra_monthly_due(month) == due, why


def test_monthly_due_rejects_a_date_that_is_not_a_month_start():
    with pytest.raises(ValueError, match="not the first day of a month"):
        finra_monthly_due(date(2026, 9, 2))


def test_calendar_rows_and_cli_print_every_month_in_range():
    rows = calendar_rows("finra-monthly", date(2016, 8, 15), date(2016, 10, 1))
    assert [(r["month_start"], r["due_date"]) for r in rows] == [
        (date(2016, 8, 1), date(2016, 9, 30)), (date(2016, 9, 1), date(2016, 10, 31)), (date(2016, 10, 1), date(2016, 11, 30))]
    from dagster_project.cli import main

    out = CliRunner().invoke(main, ["calendar", "finra-monthly", "--from", "2016-08-01", "--to", "2016-09-30"])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines() == ["month_start,due_date", "2016-08-01,2016-09-30", "2016-09-01,2016-10-31"]


def test_reference_calendar_holds_the_monthly_rule(tmp_path):
    import pyarrow.parquet as pq

    from dagster_project.reference import write_publication_calendar
    from dagster_project.settings import Paths

    path = write_publication_calendar(Paths(tmp_path), today=date(2026, 11, 21))
    rows = [r for r in pq.read_table(path).to_pylist() if r["dataset"] == "finra-monthly"]
    by_month = {r["partition_start"]: r["due_date"] for r in rows}
    assert by_month[date(2016, 8, 1)] == date(2016, 9, 30)
    assert by_month[date(2022, 4, 1)] == date(2022, 5, 31)
    assert all(r["tier"] is None for r in rows)


def test_schedule_requests_a_month_on_its_due_date_only():
    from dagster_project.schedules import finra_monthly_requests

    due_day = finra_monthly_requests(date(2026, 10, 30))
    assert [(r.partition_key, r.tags["dealerflow/reason"]) for r in due_day] == [
        ("2026-09-01", "due"), ("2026-08-01", "repoll"), ("2026-07-01", "repoll")]
    assert len({r.run_key for r in due_day}) == 3
    assert finra_monthly_requests(date(2026, 10, 29)) == []
    assert finra_monthly_requests(date(2026, 10, 31)) == []  # a Saturday
    # Memorial Day 2022 moved April's due date to Tuesday May 31.
    assert finra_monthly_requests(date(2022, 5, 30)) == []
    assert finra_monthly_requests(date(2022, 5, 31))[0].partition_key == "2022-04-01"
    # The first ATS block month has no earlier months to re-poll.
    assert [r.partition_key for r in finra_monthly_requests(date(2016, 9, 30))] == ["2016-08-01"]


def test_monthly_partitions_start_with_the_first_block_month():
    from dagster_project.partitions import monthly_dbt_vars, monthly_partitions, months_of

    keys = monthly_partitions.get_partition_keys()
    assert keys[0] == "2016-08-01"
    assert months_of(["2026-09-01", "2026-08-01"]) == [date(2026, 8, 1), date(2026, 9, 1)]
    assert monthly_dbt_vars([date(2026, 8, 1), date(2026, 12, 1)]) == {"month_start": "2026-08-01", "month_end": "2027-01-01"}
