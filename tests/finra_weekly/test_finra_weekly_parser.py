"""FINRA weekly parsers: real API bodies and download files, exactness, and every kind of bad input."""

import csv
import json
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest

from dagster_project.errors import ParseError
from dagster_project.sources import finra_weekly as fw
from dagster_project.sources.finra_api_pages import parse_page

WEEK = date(2026, 9, 7)
HEADER = "|".join(fw.LEGACY_HEADER)


def _record(**overrides):
    record = {"weekStartDate": "2026-09-07", "tierIdentifier": "T1", "tierDescription": "NMS Tier 1",
              "summaryTypeCode": "ATS_W_SMBL_FIRM", "issueSymbolIdentifier": "AAPL", "issueName": "Apple Inc.",
              "MPID": "UBSA", "firmCRDNumber": 7654, "marketParticipantName": "UBS ATS", "productTypeCode": "UTP",
              "totalWeeklyShareQuantity": 120000.5, "totalWeeklyTradeCount": 600, "lastUpdateDate": "2026-09-28",
              "initialPublishedDate": "2026-09-28"}
    record.update(overrides)
    return record


def _page(*records) -> bytes:
    return json.dumps(list(records)).encode()


# -- real Query API bodies --------------------------------------------------------------------------
def test_real_api_bodies_parse_exactly(realdata_file):
    body = realdata_file("finra_api", "weeklySummary_T1_ATS_W_SMBL_AAPL",
                         "weeklySummary_T1_ATS_W_SMBL_AAPL_week2023-10-02.json").read_bytes()
    table = parse_page(body, fw.API_FIELDS, "aapl")
    assert table.column("totalWeeklyShareQuantity").to_pylist() == [Decimal("15815734")]
    assert table.column("totalWeeklyTradeCount").to_pylist() == [188097]
    # The recording asked for four fields only: a partition without weekStartDate is refused, not guessed.
    with pytest.raises(ParseError, match=r"aapl: missing weekStartDate \(record 1\)"):
        fw.parse_api_pages([body], "aapl")


def test_all_52_real_weeks_parse_and_match_an_independent_reading(realdata_file):
    folder = realdata_file("finra_api", "weeklySummary_T1_ATS_W_SMBL_AAPL",
                           "weeklySummary_T1_ATS_W_SMBL_AAPL_week2023-08-07.json").parent
    files = sorted(folder.glob("*.json"))
    assert len(files) == 52
    ours = sum(parse_page(f.read_bytes(), fw.API_FIELDS, f.name).column("totalWeeklyShareQuantity").to_pylist()[0] for f in files)
    independent = sum(Decimal(str(json.loads(f.read_text())[0]["totalWeeklyShareQuantity"])) for f in files)
    assert ours == independent


# -- API pages ---------------------------------------------------------------------------------------
def test_fractional_quantities_are_exact():
    page = b'[{"weekStartDate":"2026-09-07","tierIdentifier":"T1","summaryTypeCode":"ATS_W_SMBL",' \
           b'"totalWeeklyShareQuantity":12345678901234.123456,"totalWeeklyTradeCount":1}]'
    table = fw.parse_api_pages([page], "p")
    assert table.column("totalWeeklyShareQuantity")[0].as_py() == Decimal("12345678901234.123456")
    assert table.schema.field("weekStartDate").type == pa.date32()


def test_record_separator_inside_a_string_takes_the_exact_path():
    tricky = _record(issueName="Weird }, { Corp")
    table = fw.parse_api_pages([_page(tricky, _record(issueSymbolIdentifier="MSFT"))], "p")
    assert table.column("issueName").to_pylist()[0] == "Weird }, { Corp"
    assert table.num_rows == 2


def test_unknown_field_is_schema_drift():
    with pytest.raises(ParseError, match=r"p/page-00001.json: schema drift: unexpected field\(s\) brandNewField"):
        fw.parse_api_pages([_page(_record(brandNewField=1))], "p")


def test_missing_field_is_refused():
    record = _record()
    del record["totalWeeklyTradeCount"]
    with pytest.raises(ParseError, match=r"missing totalWeeklyTradeCount \(record 1\)"):
        fw.parse_api_pages([_page(record)], "p")


@pytest.mark.parametrize("overrides, problem", [
    ({"totalWeeklyShareQuantity": -5}, "negative totalWeeklyShareQuantity"),
    ({"totalWeeklyTradeCount": -1}, "negative totalWeeklyTradeCount"),
    ({"summaryTypeCode": "ATS_W_WHATEVER"}, "unknown summaryTypeCode"),
    ({"tierIdentifier": "T9"}, "unknown tierIdentifier"),
    ({"totalWeeklyShareQuantity": "lots"}, "totalWeeklyShareQuantity"),
    ({"totalWeeklyTradeCount": 1.5}, "totalWeeklyTradeCount"),
    ({"weekStartDate": "07-09-2026"}, "weekStartDate '07-09-2026' is not a YYYY-MM-DD date"),
])
def test_bad_values_name_the_record(overrides, problem):
    with pytest.raises(ParseError, match=problem):
        fw.parse_api_pages([_page(_record(), _record(issueSymbolIdentifier="MSFT", **overrides))], "part")


def test_duplicate_rows_are_refused():
    with pytest.raises(ParseError, match=r"duplicate row .*\(record 2\)"):
        fw.parse_api_pages([_page(_record(), _record())], "p")


@pytest.mark.parametrize("body, problem", [(b"", "empty page"), (b'{"a":1}', "JSON array"), (b"[{]", "invalid JSON")])
def test_malformed_pages(body, problem):
    with pytest.raises(ParseError, match=problem):
        fw.parse_api_pages([body], "p")


def test_split_by_kind_keeps_every_grain():
    rows = [_record(summaryTypeCode=c, issueSymbolIdentifier=f"S{i}") for i, c in enumerate(fw.SUMMARY_TYPES)]
    parts = fw.split_by_kind(fw.parse_api_pages([_page(*rows)], "p"))
    assert sorted(parts) == [(WEEK, "T1", "ATS"), (WEEK, "T1", "OTC")]
    assert sum(t.num_rows for t in parts.values()) == len(fw.SUMMARY_TYPES)


def test_dataset_choice_by_age():
    assert fw.weekly_dataset_for(date(2026, 9, 7), date(2026, 11, 21)) == "weeklySummary"
    assert fw.weekly_dataset_for(date(2025, 9, 1), date(2026, 11, 21)) == "weeklySummaryHistoric"


# -- legacy download files ---------------------------------------------------------------------------
REAL_FILES = {"finra_otc_weekly_otc_20251215.csv": 5328, "finra_otc_weekly_otc_20251222.csv": 5192,
              "finra_otc_weekly_otc_20251229.csv": 4655}


@pytest.mark.parametrize("name, rows", sorted(REAL_FILES.items()))
def test_real_download_files_parse_with_exact_totals(realdata_file, name, rows):
    path = realdata_file("finra_otc", name)
    table = fw.parse_legacy_file(path.read_bytes(), str(path), date(2025, 11, 10), "ATS")
    assert table.num_rows == rows
    with open(path, newline="") as fh:
        expected = list(csv.DictReader(fh, delimiter="|"))
    assert len(expected) == rows
    assert sum(table.column("totalWeeklyShareQuantity").to_pylist()) == sum(Decimal(r["totalWeeklyShareQuantity"]) for r in expected)
    assert sum(table.column("totalWeeklyTradeCount").to_pylist()) == sum(int(r["totalWeeklyTradeCount"]) for r in expected)
    assert set(table.column("tierIdentifier").to_pylist()) == {"OTCE"}
    assert set(table.column("summaryTypeCode").to_pylist()) == {"ATS_W_SMBL_FIRM"}


def test_real_file_blank_symbol_row_is_kept_as_null(realdata_file):
    path = realdata_file("finra_otc", "finra_otc_weekly_otc_20251229.csv")
    table = fw.parse_legacy_file(path.read_bytes(), str(path), date(2025, 11, 24), "ATS")
    last = table.slice(table.num_rows - 1).to_pylist()[0]
    assert last["issueSymbolIdentifier"] is None and last["MPID"] == "PPEX"
    assert last["totalWeeklyShareQuantity"] == Decimal(1)


def _file(*lines: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *lines])).encode()


GOOD = "NMS Tier 1|AAPL|Apple Inc.|UBS ATS|UBSA|1000|10|2026-09-28"


@pytest.mark.parametrize("data, problem", [
    (b"", "empty file"),
    (_file(GOOD, header=HEADER.replace("|MPID", "")), r"line 1: .*missing column\(s\) MPID"),
    (_file(GOOD, header=HEADER.replace("MPID", "MPIDX")), r"missing column\(s\) MPID; unexpected column\(s\) MPIDX"),
    (_file(GOOD + "|x", header=HEADER + "|extra"), r"unexpected column\(s\) extra"),
    (_file(GOOD, header="|".join(reversed(fw.LEGACY_HEADER))), "columns out of order"),
    (_file(GOOD, "NMS Tier 1|MSFT|Microsoft|UBS ATS|UBSA|many|10|2026-09-28"), "many"),
    (_file(GOOD, "NMS Tier 1|MSFT|Microsoft|UBS ATS|UBSA|-5|10|2026-09-28"), r"line 3: negative totalWeeklyShareQuantity"),
    (_file(GOOD, GOOD), r"line 3: duplicate row"),
    (_file(GOOD, "NMS Tier 7|MSFT|Microsoft|UBS ATS|UBSA|5|1|2026-09-28"), r"line 3: unknown tierDescription"),
    (_file(GOOD, "NMS Tier 1|MSFT|Microsoft|UBS ATS|UBSA|5|1|2026-08-03"), r"line 3: lastUpdateDate precedes --week-start"),
    (_file(GOOD, "NMS Tier 1|MSFT|Microsoft|UBS ATS|UBSA|5|1|28-09-2026"), r"line 3: lastUpdateDate '28-09-2026'"),
    (_file(GOOD, "NMS Tier 1|MSFT|Microsoft|UBS ATS|UBSA|5"), "Expected 8 columns"),
    (_file(GOOD).replace(b"Apple", b"Appl\xe9"), r"line 2: not UTF-8"),
])
def test_bad_download_files(data, problem):
    with pytest.raises(ParseError, match=problem) as err:
        fw.parse_legacy_file(data, "upload.txt", WEEK, "ATS")
    assert str(err.value).startswith("upload.txt")


def test_week_start_must_be_a_monday():
    with pytest.raises(ParseError, match="not a Monday"):
        fw.parse_legacy_file(_file(GOOD), "f", date(2026, 9, 8), "ATS")
