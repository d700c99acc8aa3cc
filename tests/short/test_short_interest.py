"""FINRA equity short interest: real exports, the CDN pipe file, Query API JSON pages, bad input."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from dagster_project.errors import ParseError, ReconciliationError
from dagster_project.sources.short_interest import (
    CDN_COLUMNS,
    SHORT_INTEREST_SCHEMA,
    consolidated_short_interest_filters,
    parse_consolidated_short_interest_json,
    parse_short_interest_browser_csv,
    parse_short_interest_file,
    parse_short_interest_standardized_csv,
    short_interest_path,
)


def _csv_facts(path, symbol_col, current_col, dtc_col, flag_cols=()):
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return {
        "rows": len(rows),
        "symbols": [r[symbol_col] for r in rows],
        "current": sum(int(r[current_col]) for r in rows),
        "sentinel": sum(1 for r in rows if r[dtc_col] == "999.99"),
        "flags": {c: sum(1 for r in rows if r[c].strip()) for c in flag_cols},
    }


@pytest.mark.realdata
@pytest.mark.parametrize("name, rows, spot", [
    ("1_-Equity_Short_Intrest_20240902.csv", 5000,
     ("MKKGY", "Merck KGaA, Darmstadt, Germany", 27226, 3560, 23666, Decimal("664.78"), 68695, Decimal("1.00"))),
    ("2_-Equity_Short_Intrest_20240902.csv", 3678,
     ("ZVOI", "ZOVIO INC Common Stock", 2129, 2129, 0, Decimal("0.00"), 5, Decimal("425.80"))),
])
def test_real_browser_exports(name, rows, spot, realdata_file):
    path = realdata_file("finra_short_interest", name)
    table = parse_short_interest_browser_csv(path.read_bytes(), str(path))
    facts = _csv_facts(path, "issueSymbolIdentifier", "currentShortShareNumber", "daysToCoverNumber")
    assert table.schema == SHORT_INTEREST_SCHEMA
    assert table.num_rows == rows == facts["rows"]
    assert table.column("symbol").to_pylist() == facts["symbols"]
    assert pc.sum(table.column("current_short")).as_py() == facts["current"]
    assert pc.sum(table.column("days_to_cover_sentinel")).as_py() == facts["sentinel"] > 0
    assert table.column("days_to_cover").null_count == facts["sentinel"]
    assert set(table.column("settlement_date").to_pylist()) == {date(2024, 8, 15)}
    assert set(table.column("market_class").to_pylist()) == {"U"}
    assert table.column("revision_flag").null_count == rows  # the export does not carry flags
    row = table.filter(pc.equal(table.column("symbol"), spot[0])).to_pylist()[0]
    # Page 1's spot row has a quoted comma in issueName; the values are read off the raw file.
    assert (row["symbol"], row["issue_name"], row["current_short"], row["previous_short"], row["change"],
            row["change_percent"], row["avg_daily_volume"], row["days_to_cover"]) == spot


@pytest.mark.realdata
def test_real_browser_pages_do_not_overlap(realdata_file):
    tables = [parse_short_interest_browser_csv(p.read_bytes(), str(p)) for p in (
        realdata_file("finra_short_interest", "1_-Equity_Short_Intrest_20240902.csv"),
        realdata_file("finra_short_interest", "2_-Equity_Short_Intrest_20240902.csv"))]
    both = pa.concat_tables(tables)
    assert both.num_rows == 8678 == len(set(both.column("symbol").to_pylist()))


@pytest.mark.realdata
def test_real_standardized_api_csv(realdata_file):
    path = realdata_file("finra_short_interest", "otcMarket_equityShortInterestStandardized.txt")
    table = parse_short_interest_standardized_csv(path.read_bytes(), str(path))
    facts = _csv_facts(path, "securitiesInformationProcessorSymbolIdentifier", "currentShortPositionQuantity",
                       "daysToCoverQuantity", ("revisionFlag", "stockSplitFlag"))
    assert table.num_rows == 1000 == facts["rows"]
    assert pc.sum(table.column("current_short")).as_py() == facts["current"]
    assert pc.sum(table.column("days_to_cover_sentinel")).as_py() == facts["sentinel"]
    assert pc.sum(table.column("revision_flag")).as_py() == facts["flags"]["revisionFlag"] == 5
    assert pc.sum(table.column("stock_split_flag")).as_py() == facts["flags"]["stockSplitFlag"] == 5
    assert table.column("symbol").to_pylist()[0] == "AAALF" and table.column("symbol").to_pylist()[-1] == "BKNIY"
    assert set(table.column("settlement_date").to_pylist()) == {date(2020, 12, 31)}
    assert set(table.column("accounting_date").to_pylist()) == {date(2020, 12, 31)}


# ------------------------------------------------------------------------------- CDN pipe file

CDN_NAME = "/replay/finra_cdn/equity/otcmarket/biweekly/shrt20260115.csv"
HEADER = "|".join(CDN_COLUMNS)
ROW_AAPL = "20260115|AAPL|Apple Inc.|A|NNM|34636195|39059449||38275532|1.0||-11.32|-4423254|2026-01-15"
ROW_A = "20260115|A|Agilent Technologies Inc.|A|NYSE|5749623|7538437|S|2301495|2.50|R|-23.73|-1788814|2026-01-15"


def _cdn(*rows, header=HEADER):
    return ("\n".join([header, *rows]) + "\n").encode()


def _raises(fn, data, line, fragment, exc=ParseError, source=CDN_NAME):
    with pytest.raises(exc) as info:
        fn(data, source)
    assert info.value.line == line, str(info.value)
    assert source in str(info.value)
    if line is not None:
        assert f"line {line}" in str(info.value)
    assert fragment in info.value.problem, info.value.problem


def test_cdn_file_parses_by_header_names():
    table = parse_short_interest_file(_cdn(ROW_AAPL, ROW_A), CDN_NAME)
    aapl, agilent = table.to_pylist()
    assert aapl["current_short"] == 34636195 and aapl["days_to_cover"] == Decimal("1.00")
    assert aapl["revision_flag"] is False and aapl["stock_split_flag"] is False
    assert agilent["revision_flag"] is True and agilent["stock_split_flag"] is True
    assert agilent["exchange_code"] == "A" and agilent["market_class"] == "NYSE"
    assert agilent["source_format"] == "finra_cdn_pipe"
    # Reordered columns give the same table.
    order = list(reversed(range(len(CDN_COLUMNS))))
    reordered = [("|".join(line.split("|")[i] for i in order)) for line in (HEADER, ROW_AAPL, ROW_A)]
    assert parse_short_interest_file(_cdn(*reordered[1:], header=reordered[0]), CDN_NAME).equals(table)


def test_cdn_sentinel_becomes_null_with_flag():
    row = ROW_AAPL.replace("|38275532|1.0|", "|0|999.99|")
    record = parse_short_interest_file(_cdn(row), CDN_NAME).to_pylist()[0]
    assert record["days_to_cover"] is None and record["days_to_cover_sentinel"] is True


def test_cdn_file_for_the_wrong_settlement_date():
    _raises(parse_short_interest_file, _cdn(ROW_AAPL.replace("2026-01-15", "2025-12-31")), 2,
            "settlement date 2025-12-31 in the data for 2026-01-15")


@pytest.mark.parametrize("header, fragment", [
    (HEADER.replace("|settlementDate", ""), "missing column(s) ['settlementDate']"),
    (HEADER.replace("symbolCode", "ticker"), "unexpected column(s) ['ticker']"),
    (HEADER + "|marketCategoryDescription", "unexpected column(s) ['marketCategoryDescription']"),
])
def test_cdn_bad_headers(header, fragment):
    _raises(parse_short_interest_file, _cdn(header=header), 1, fragment)


@pytest.mark.parametrize("row, fragment", [
    (ROW_A.replace("|5749623|", "|57x9623|"), "non-numeric value '57x9623' in column currentShortPositionQuantity"),
    (ROW_A.replace("|2301495|", "|-2301495|"), "negative value '-2301495' in column averageDailyVolumeQuantity"),
    (ROW_A.replace("|A|Agilent", "| |Agilent"), "blank symbolCode"),
    (ROW_A.replace("|R|", "|X|"), "unexpected revisionFlag 'X'"),
    (ROW_A.replace("|-1788814|", "|1788814|"), "change 1788814 != current 5749623 - previous 7538437"),
    (ROW_A + "|extra", "expected 14 fields, got 15"),
    (ROW_A.replace("2026-01-15", "15-01-2026"), "bad date '15-01-2026'"),
])
def test_cdn_bad_rows(row, fragment):
    exc = ReconciliationError if "!=" in fragment else ParseError
    _raises(parse_short_interest_file, _cdn(ROW_AAPL, row), 3, fragment, exc=exc)


def test_cdn_duplicate_symbol():
    _raises(parse_short_interest_file, _cdn(ROW_AAPL, ROW_A, ROW_AAPL), 4, "duplicate row for 'AAPL' on 2026-01-15")


def test_cdn_non_utf8_and_empty():
    _raises(parse_short_interest_file, _cdn(ROW_AAPL, ROW_A).replace(b"Agilent", b"Ag\xe9lent"), 3, "not UTF-8: byte 0xe9")
    _raises(parse_short_interest_file, b"", None, "empty file")


# ------------------------------------------------------------------------------- Query API JSON

def _record(**overrides):
    record = {
        "accountingYearMonthNumber": 20260115, "symbolCode": "AAPL", "issueName": "Apple Inc.",
        "issuerServicesGroupExchangeCode": "A", "marketClassCode": "NNM", "currentShortPositionQuantity": 34636195,
        "previousShortPositionQuantity": 39059449, "stockSplitFlag": None, "averageDailyVolumeQuantity": 38275532,
        "daysToCoverQuantity": 1.0, "revisionFlag": None, "changePercent": -11.32, "changePreviousNumber": -4423254,
        "settlementDate": "2026-01-15",
    }
    record.update(overrides)
    return record


def test_json_pages_match_the_cdn_file():
    pages = [json.dumps([_record()]).encode(),
             json.dumps([_record(symbolCode="A", issueName="Agilent Technologies Inc.", marketClassCode="NYSE",
                                 currentShortPositionQuantity=5749623, previousShortPositionQuantity=7538437,
                                 stockSplitFlag="S", averageDailyVolumeQuantity=2301495, daysToCoverQuantity=2.50,
                                 revisionFlag="R", changePercent=-23.73, changePreviousNumber=-1788814)]).encode(),
             b""]  # a 204 page is empty
    from_json = parse_consolidated_short_interest_json(pages, "consolidatedShortInterest 2026-01-15")
    from_file = parse_short_interest_file(_cdn(ROW_AAPL, ROW_A), CDN_NAME)
    assert from_json.drop_columns(["source_format"]).equals(from_file.drop_columns(["source_format"]))
    assert set(from_json.column("source_format").to_pylist()) == {"finra_api_json"}


def test_json_empty_result_and_missing_null_flags():
    assert parse_consolidated_short_interest_json([], "x").num_rows == 0
    assert parse_consolidated_short_interest_json([b"", b"[]"], "x").schema == SHORT_INTEREST_SCHEMA
    record = _record()
    del record["revisionFlag"], record["stockSplitFlag"]
    row = parse_consolidated_short_interest_json([json.dumps([record]).encode()], "x").to_pylist()[0]
    assert row["revision_flag"] is False and row["stock_split_flag"] is False


@pytest.mark.parametrize("pages, fragment", [
    ([b"[{]"], "invalid JSON"),
    ([b'{"a": 1}'], "expected a JSON array"),
    ([json.dumps([_record(), _record(symbolCode="MSFT", extraField=1)]).encode()], "record 2: unexpected field(s) ['extraField']"),
    ([json.dumps([{k: v for k, v in _record().items() if k != "symbolCode"}]).encode()], "record 1: missing field(s) ['symbolCode']"),
    ([json.dumps([_record(currentShortPositionQuantity="lots")]).encode()], "record 1: non-numeric value 'lots'"),
    ([json.dumps([_record(currentShortPositionQuantity=-5, changePreviousNumber=-39059454)]).encode()], "record 1: negative value '-5'"),
    ([json.dumps([_record(symbolCode="")]).encode()], "record 1: blank symbolCode"),
    ([json.dumps([_record(settlementDate="2026-01-30")]).encode()], "record 1: settlement date 2026-01-30 in the data for 2026-01-15"),
])
def test_json_bad_records_name_page_and_record(pages, fragment):
    with pytest.raises(ParseError) as info:
        parse_consolidated_short_interest_json([json.dumps([_record(symbolCode="ZZZ")]).encode(), *pages], "csi 2026-01-15",
                                               settlement_date=date(2026, 1, 15))
    assert "csi 2026-01-15 page 2" in str(info.value)
    assert fragment in info.value.problem, info.value.problem


def test_json_duplicates_across_pages():
    with pytest.raises(ParseError, match="duplicate row for 'AAPL'.*first at csi page 1 record 1") as info:
        parse_consolidated_short_interest_json([json.dumps([_record()]).encode(), json.dumps([_record()]).encode()], "csi")
    assert "csi page 2" in str(info.value)


def test_json_non_utf8_page():
    with pytest.raises(ParseError, match="not UTF-8") as info:
        parse_consolidated_short_interest_json([b'[{"issueName": "\xff"}]'], "csi")
    assert "csi page 1, line 1" in str(info.value)


def test_browser_export_faults():
    header = ("issueSymbolIdentifier,settlementDate,issueName,marketCategoryCode,marketCategoryDescription,"
              "currentShortShareNumber,previousShortShareNumber,changePercent,percentageChangefromPreviousShort,"
              "averageShortShareNumber,daysToCoverNumber")
    good = "AABB,15-08-2024,Asia Broadband Inc Common Stoc,U,Other OTC,135611,1550761,-91.26,-1415150,37540046,1.00"
    ok = parse_short_interest_browser_csv(f"{header}\r\n{good}".encode(), "export.csv").to_pylist()[0]
    assert ok["settlement_date"] == date(2024, 8, 15) and ok["change"] == -1415150
    swapped = good.replace(",-1415150,37540046,", ",37540046,-1415150,")
    _raises(parse_short_interest_browser_csv, f"{header}\r\n{good}\r\n{swapped.replace('AABB', 'AABC')}".encode(), 3,
            "negative value '-1415150' in column averageShortShareNumber", source="export.csv")
    _raises(parse_short_interest_browser_csv, f"{header}\r\n{good.replace('15-08-2024', '2024-08-15')}".encode(), 2,
            "bad date '2024-08-15'", source="export.csv")
    _raises(parse_short_interest_browser_csv, f"{header},extra\r\n{good},1".encode(), 1, "unexpected column(s) ['extra']",
            source="export.csv")


def test_paths_and_filters():
    assert short_interest_path(date(2026, 1, 15)) == "equity/otcmarket/biweekly/shrt20260115.csv"
    assert consolidated_short_interest_filters(date(2026, 1, 15)) == [
        {"compareType": "EQUAL", "fieldName": "settlementDate", "fieldValue": "2026-01-15"}]
