"""The Great Expectations suites in expectations/ accept good data and name what is wrong with bad data."""

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from dagster_project.expectations import SUITES_DIR, validate


def staging_frame(**changes):
    frame = pd.DataFrame({
        "week_start_date": pd.to_datetime(["2026-09-07"] * 3).date, "tier": ["T1"] * 3,
        "summary_type_code": ["ATS_W_SMBL_FIRM", "ATS_W_SMBL", "ATS_W_FIRM"], "symbol": ["AAPL", "AAPL", None],
        "issue_name": ["Apple", "Apple", None], "mpid": ["UBSA", None, "UBSA"], "firm_crd": [7654, None, 7654],
        "participant_name": ["UBS ATS", None, "UBS ATS"], "product_type_code": ["UTP", "UTP", None],
        "share_quantity": [Decimal("100.5"), Decimal("100.5"), Decimal("100.5")], "trade_count": [3, 3, 3],
        "version_id": ["v1"] * 3})
    for column, (row, value) in changes.items():
        frame.loc[row, column] = value
    return frame


def test_every_suite_file_is_a_valid_gx_suite():
    suites = sorted(Path(SUITES_DIR).glob("*.json"))
    assert len(suites) >= 5
    for path in suites:
        spec = json.loads(path.read_text())
        assert spec["name"] == path.stem and spec["expectations"], path


def test_staging_suite_accepts_good_rows():
    result = validate("finra_weekly_staging", staging_frame())
    assert result.success, result.summary()


@pytest.mark.parametrize("changes, expectation, column", [
    ({"share_quantity": (0, Decimal("-1"))}, "expect_column_values_to_be_between", "share_quantity"),
    ({"tier": (1, "T9")}, "expect_column_values_to_be_in_set", "tier"),
    ({"participant_name": (2, None)}, "expect_column_values_to_not_be_null", "participant_name"),
    ({"symbol": (1, "AAPL"), "summary_type_code": (1, "ATS_W_SMBL_FIRM"), "mpid": (1, "UBSA"), "firm_crd": (1, 7654),
      "participant_name": (1, "UBS ATS")}, "expect_compound_columns_to_be_unique", None),
])
def test_staging_suite_names_the_problem(changes, expectation, column):
    result = validate("finra_weekly_staging", staging_frame(**changes))
    assert not result.success
    assert any(f["expectation"] == expectation and f["column"] == column for f in result.failures), result.failures
