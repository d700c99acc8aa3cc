"""Reg SHO daily short-sale volume: every real file, CNMS consistency, and each bad-input case."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pytest

from dagster_project.errors import ParseError, ReconciliationError
from dagster_project.sources.regsho import (
    check_cnms_consistency,
    parse_regsho_daily,
    parse_regsho_filename,
    regsho_path,
    total_volumes,
)

# Row counts from /work/shared/realdata/README.md section 2.
REAL_FILES = {
    "CNMSshvol20200102.txt": 8172, "CNMSshvol20200103.txt": 8124, "CNMSshvol20200106.txt": 8075,
    "CNMSshvol20200107.txt": 8049, "CNMSshvol20200108.txt": 8069, "CNMSshvol20200109.txt": 8034,
    "FNQCshvol20200102.txt": 2678, "FNRAshvol20200102.txt": 0, "FNSQshvol20200102.txt": 7972,
    "FNYXshvol20200102.txt": 7355, "FORFshvol20200102.txt": 3149, "CNMSshvol20210427.txt": 9714,
}


def _independent_totals(path):
    """Sums and row count computed with the csv module, without the parser."""
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle, delimiter="|")
        header = next(reader)
        idx = {name: i for i, name in enumerate(header)}
        sv = sev = tv = Decimal(0)
        rows = 0
        trailer = None
        for rec in reader:
            if len(rec) == 1:
                trailer = int(rec[0])
                continue
            rows += 1
            sv += Decimal(rec[idx["ShortVolume"]])
            sev += Decimal(rec[idx["ShortExemptVolume"]])
            tv += Decimal(rec[idx["TotalVolume"]])
    return rows, trailer, (sv, sev, tv)


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(REAL_FILES))
def test_real_file_rows_trailer_and_totals(name, realdata_file):
    path = realdata_file("finra_regsho", name)
    parsed = parse_regsho_daily(path.read_bytes(), str(path))
    rows, trailer, sums = _independent_totals(path)
    assert parsed.table.num_rows == REAL_FILES[name] == rows
    assert parsed.trailer_count == trailer == rows
    assert total_volumes(parsed.table) == sums
    facility, day = parse_regsho_filename(name)
    assert parsed.facility == facility and parsed.trade_date == day
    assert set(parsed.table.column("trade_date").to_pylist()) <= {day}
    assert parsed.table.schema.field("short_volume").type == pa.decimal128(38, 6)
    assert parsed.table.schema.field("trade_date").type == pa.date32()


@pytest.mark.realdata
def test_real_cnms_equals_facility_sums_and_excludes_orf(realdata_file):
    tables = {}
    for facility in ("CNMS", "FNSQ", "FNQC", "FNYX", "FNRA", "FORF"):
        path = realdata_file("finra_regsho", f"{facility}shvol20200102.txt")
        tables[facility] = parse_regsho_daily(path.read_bytes(), str(path)).table
    check_cnms_consistency(tables["CNMS"], tables, "2020-01-02")
    # Sanity of the check itself: FORF (OTC) is not part of CNMS, so swapping it in must fail.
    broken = dict(tables, FNRA=tables["FORF"])
    with pytest.raises(ReconciliationError, match="different symbols"):
        check_cnms_consistency(tables["CNMS"], broken, "2020-01-02")


@pytest.mark.realdata
def test_real_short_volume_is_not_added_to_exempt(realdata_file):
    path = realdata_file("finra_regsho", "CNMSshvol20200102.txt")
    table = parse_regsho_daily(path.read_bytes(), str(path)).table
    first = table.slice(0, 1).to_pylist()[0]
    # 20200102|A|93998|378|277507|B,Q,N: ShortVolume already includes the 378 exempt shares.
    assert (first["symbol"], first["short_volume"], first["short_exempt_volume"]) == ("A", Decimal(93998), Decimal(378))


# ------------------------------------------------------------------------------- synthetic inputs

HEADER = "Date|Symbol|ShortVolume|ShortExemptVolume|TotalVolume|Market"
NAME = "/replay/finra_cdn/equity/regsho/daily/FNSQshvol20260105.txt"


def _file(*rows: str, trailer: str | None = None, header: str = HEADER, eol: str = "\r\n") -> bytes:
    lines = [header, *rows]
    lines.append(str(len(rows)) if trailer is None else trailer)
    return (eol.join(lines) + eol).encode()


def _raises(data: bytes, line: int | None, fragment: str, exc=ParseError, source: str = NAME, **kwargs):
    with pytest.raises(exc) as info:
        parse_regsho_daily(data, source, **kwargs)
    assert info.value.line == line, str(info.value)
    assert source in str(info.value)
    if line is not None:
        assert f"line {line}" in str(info.value)
    assert fragment in info.value.problem, info.value.problem
    return info.value


def test_decimal_volumes_kept_exact_and_lf_accepted():
    data = _file("20260105|AAPL|418949.64|61|779188.03|Q", "20260105|ZERO|0|0|0|Q", eol="\n")
    parsed = parse_regsho_daily(data, NAME)
    assert parsed.table.column("short_volume").to_pylist() == [Decimal("418949.64"), Decimal(0)]
    assert total_volumes(parsed.table)[2] == Decimal("779188.03")


def test_reordered_columns_are_fine():
    header = "Symbol|Market|TotalVolume|ShortExemptVolume|ShortVolume|Date"
    parsed = parse_regsho_daily(_file("AAPL|Q|100|1|40|20260105", header=header), NAME)
    assert parsed.table.to_pylist()[0] == {
        "trade_date": date(2026, 1, 5), "facility": "FNSQ", "symbol": "AAPL", "short_volume": Decimal(40),
        "short_exempt_volume": Decimal(1), "total_volume": Decimal(100), "market": "Q"}


def test_empty_day_header_and_zero_trailer():
    parsed = parse_regsho_daily(_file(), NAME)
    assert parsed.table.num_rows == 0 and parsed.trailer_count == 0 and parsed.trade_date == date(2026, 1, 5)


def test_trailer_disagreeing_with_rows():
    err = _raises(_file("20260105|AAPL|40|1|100|Q", trailer="2"), 3, "trailer says 2 records, file has 1",
                  exc=ReconciliationError)
    assert isinstance(err, ParseError)


def test_missing_trailer_needs_explicit_flag():
    data = ("\r\n".join([HEADER, "20260105|AAPL|40|1|100|Q"]) + "\r\n").encode()
    _raises(data, 3, "no trailer line")
    parsed = parse_regsho_daily(data, NAME, require_trailer=False)
    assert parsed.trailer_count is None and parsed.table.num_rows == 1


def test_wrong_date_in_file():
    _raises(_file("20260105|AAPL|40|1|100|Q", "20260102|MSFT|40|1|100|Q"), 3, "row dated 2026-01-02 in the file for 2026-01-05")


def test_pre_2011_five_column_layout():
    _raises(_file("20100105|AAPL|40|100|Q", header="Date|Symbol|ShortVolume|TotalVolume|Market"), 1, "pre-2011 5-column layout")


@pytest.mark.parametrize("header, fragment", [
    ("Date|Symbol|ShortVolume|ShortExemptVolume|TotalVolume", "missing column(s) ['Market']"),
    ("Date|Ticker|ShortVolume|ShortExemptVolume|TotalVolume|Market", "unexpected column(s) ['Ticker']"),
    (HEADER + "|Extra", "unexpected column(s) ['Extra']"),
])
def test_bad_headers(header, fragment):
    _raises(_file(header=header), 1, fragment)


@pytest.mark.parametrize("row, fragment", [
    ("20260105|AAPL|4O|1|100|Q", "non-numeric value '4O' in column ShortVolume"),
    ("20260105|AAPL|40|1||Q", "non-numeric value '' in column TotalVolume"),
    ("20260105|AAPL|-40|1|100|Q", "negative value '-40' in column ShortVolume"),
    ("20260105| |40|1|100|Q", "blank Symbol"),
    ("20260105|AAPL|40|41|100|Q", "ShortExemptVolume 41 exceeds ShortVolume 40"),
    ("20260105|AAPL|140|1|100|Q", "ShortVolume 140 exceeds TotalVolume 100"),
    ("20260105|AAPL|40|1|100", "expected 6 fields, got 5"),
    ("20260105|AAPL|40|1|100|N", "Market 'N' in a FNSQ file"),
    ("2026010|AAPL|40|1|100|Q", "bad date '2026010'"),
    ("20260105|AAPL|40.1234567|1|100|Q", "more than 6 decimal places"),
])
def test_bad_rows_name_file_line_problem(row, fragment):
    _raises(_file("20260105|MSFT|1|0|2|Q", row), 3, fragment)


def test_duplicate_symbol():
    _raises(_file("20260105|AAPL|40|1|100|Q", "20260105|MSFT|1|0|2|Q", "20260105|AAPL|40|1|100|Q"), 4,
            "duplicate row for symbol 'AAPL' (first at line 2)")


def test_blank_line_inside_data():
    _raises(_file("20260105|AAPL|40|1|100|Q", "", "20260105|MSFT|1|0|2|Q", trailer="3"), 3, "blank line")


def test_non_utf8_bytes_name_their_line():
    data = _file("20260105|AAPL|40|1|100|Q").replace(b"AAPL", b"AA\xffL")
    _raises(data, 2, "not UTF-8: byte 0xff")


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n"])
def test_empty_file(data):
    with pytest.raises(ParseError, match="empty file") as info:
        parse_regsho_daily(data, NAME)
    assert NAME in str(info.value)


def test_cnms_market_lists_are_validated():
    cnms = "/x/CNMSshvol20260105.txt"
    ok = parse_regsho_daily(_file("20260105|AAPL|40|1|100|B,Q,N"), cnms)
    assert ok.table.column("market").to_pylist() == ["B,Q,N"]
    _raises(_file("20260105|AAPL|40|1|100|B,X"), 2, "Market 'B,X'", source=cnms)


def test_facility_and_date_without_a_finra_file_name():
    with pytest.raises(ParseError, match="cannot tell the facility"):
        parse_regsho_daily(_file("20260105|AAPL|40|1|100|Q"), "upload.txt")
    parsed = parse_regsho_daily(_file("20260105|AAPL|40|1|100|Q"), "upload.txt", facility="FNSQ")
    assert parsed.trade_date == date(2026, 1, 5)
    _raises(_file(), None, "cannot tell the trade date", source="upload.txt", facility="FNSQ")


def test_paths():
    assert regsho_path("CNMS", date(2020, 1, 2)) == "equity/regsho/daily/CNMSshvol20200102.txt"
    assert parse_regsho_filename("https://cdn.finra.org/equity/regsho/daily/FORFshvol20200102.txt") == (
        "FORF", date(2020, 1, 2))
    assert parse_regsho_filename("CNMSshvol20201302.txt") is None
    with pytest.raises(ValueError):
        regsho_path("XXXX", date(2020, 1, 2))
