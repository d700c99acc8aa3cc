"""SEC fails-to-deliver: real zips and the trailer-less copy, index scraping, rate limit, bad input."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from dagster_project.errors import ParseError, ReconciliationError
from dagster_project.sources.sec_ftd import (
    FtdLink,
    RateLimitedFetcher,
    parse_ftd_index,
    parse_ftd_text,
    parse_ftd_zip,
)

# Record counts and total quantities from the README (section 3), i.e. from the SEC's own trailers.
REAL_ZIPS = {
    "cnsfails202009a.zip": ("cnsfails202009a.txt", 43147, 1056731899, date(2020, 9, 1), date(2020, 9, 14)),
    "cnsfails202104b.zip": ("cnsfails202103b.txt", 75011, 2423589858, date(2021, 3, 15), date(2021, 3, 31)),
}


def _independent(payload: bytes):
    """Rows, quantity sum and '.'-price count straight from the text, plus the trailer numbers."""
    lines = payload.decode("utf-8").splitlines()
    rows = [line.split("|") for line in lines[1:] if "|" in line]
    trailers = {line.rsplit(" ", 1)[0]: int(line.rsplit(" ", 1)[1]) for line in lines if line.startswith("Trailer")}
    return len(rows), sum(int(r[3]) for r in rows), sum(1 for r in rows if r[5] in ("", ".")), trailers


@pytest.mark.realdata
@pytest.mark.parametrize("name", sorted(REAL_ZIPS))
def test_real_zips(name, realdata_file):
    member, count, total, first, last = REAL_ZIPS[name]
    path = realdata_file("sec_ftd", name)
    parsed = parse_ftd_zip(path.read_bytes(), str(path))
    with zipfile.ZipFile(path) as archive:
        rows, quantity, null_prices, trailers = _independent(archive.read(member))
    assert parsed.member == member
    assert parsed.table.num_rows == count == rows == parsed.trailer_record_count == trailers["Trailer record count"]
    assert parsed.total_quantity == total == quantity == parsed.trailer_total_quantity
    assert trailers["Trailer total quantity of shares"] == total
    assert pc.sum(parsed.table.column("quantity")).as_py() == total
    assert parsed.table.column("price").null_count == null_prices > 0
    assert (parsed.first_settlement_date, parsed.last_settlement_date) == (first, last)
    assert parsed.table.schema.field("cusip").type == pa.string()
    assert parsed.table.schema.field("price").type == pa.decimal128(18, 6)
    assert all(len(c) == 9 for c in parsed.table.column("cusip").to_pylist())
    mismatch = [n for n in parsed.notes if "holds" in n]
    assert bool(mismatch) == (name == "cnsfails202104b.zip")


@pytest.mark.realdata
def test_real_trailerless_copy_needs_the_flag(realdata_file):
    path = realdata_file("sec_ftd", "cnsfails202101b.txt")
    data = path.read_bytes()
    with pytest.raises(ParseError, match="no trailer lines") as info:
        parse_ftd_text(data, str(path))
    assert str(path) in str(info.value) and info.value.line == 55974
    parsed = parse_ftd_text(data, str(path), require_trailer=False)
    rows, quantity, null_prices, trailers = _independent(data)
    assert trailers == {}
    assert parsed.table.num_rows == 55972 == rows
    assert parsed.total_quantity == quantity
    assert parsed.table.column("price").null_count == null_prices
    assert parsed.has_trailer is False and any("require_trailer=False" in n for n in parsed.notes)
    gme = parsed.table.filter(pc.and_(pc.equal(parsed.table.column("symbol"), "GME"),
                                      pc.equal(parsed.table.column("settlement_date"), date(2021, 1, 29))))
    assert gme.num_rows == 1


# ------------------------------------------------------------------------------- synthetic inputs

HEADER = "SETTLEMENT DATE|CUSIP|SYMBOL|QUANTITY (FAILS)|DESCRIPTION|PRICE"
ROWS = ["20210129|36467W109|GME|138179|GAMESTOP CORP (HLDG CO) CL A|193.60",
        "20210129|98986T108|ZNGA|298191|ZYNGA INC CLASS A|."]
NAME = "cnsfails202101b.txt"


def _text(*rows, header=HEADER, count=None, total=None):
    lines = [header, *rows]
    quantity = sum(int(r.split("|")[3]) for r in rows if r.count("|") == 5 and r.split("|")[3].isdigit())
    lines.append(f"Trailer record count {len(rows) if count is None else count}")
    lines.append(f"Trailer total quantity of shares {quantity if total is None else total}")
    return ("\n".join(lines) + "\n").encode()


def _zip(payload: bytes, member="cnsfails202101b.txt") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, payload)
    return buffer.getvalue()


def _raises(data, line, fragment, exc=ParseError, source=NAME, fn=parse_ftd_text, **kwargs):
    with pytest.raises(exc) as info:
        fn(data, source, **kwargs)
    assert info.value.line == line, str(info.value)
    assert source in str(info.value)
    if line is not None:
        assert f"line {line}" in str(info.value)
    assert fragment in info.value.problem, info.value.problem


def test_small_file_values():
    parsed = parse_ftd_text(_text(*ROWS), NAME)
    assert parsed.table.to_pylist() == [
        {"settlement_date": date(2021, 1, 29), "cusip": "36467W109", "symbol": "GME", "quantity": 138179,
         "description": "GAMESTOP CORP (HLDG CO) CL A", "price": Decimal("193.60")},
        {"settlement_date": date(2021, 1, 29), "cusip": "98986T108", "symbol": "ZNGA", "quantity": 298191,
         "description": "ZYNGA INC CLASS A", "price": None},
    ]
    blank_price = parse_ftd_text(_text(ROWS[0].rsplit("|", 1)[0] + "|"), NAME)
    assert blank_price.table.column("price").to_pylist() == [None]


def test_leading_zero_cusip_stays_a_string():
    parsed = parse_ftd_text(_text("20210129|00206R102|T|100|AT&T INC|29.10"), NAME)
    assert parsed.table.column("cusip").to_pylist() == ["00206R102"]


def test_trailer_count_and_total_are_reconciled():
    _raises(_text(*ROWS, count=3), 4, "trailer record count 3 != 2 rows", exc=ReconciliationError)
    _raises(_text(*ROWS, total=1), 5, "trailer total quantity 1 != 436370", exc=ReconciliationError)
    only_count = b"\n".join(_text(*ROWS).split(b"\n")[:-2]) + b"\n"
    _raises(only_count, 4, "only the record count trailer is present")
    _raises(only_count, 4, "only the record count trailer is present", require_trailer=False)
    _raises(_text(*ROWS).replace(b"Trailer total quantity of shares", b"Trailer grand total"), 5,
            "unrecognised trailer line")


def test_reordered_columns_are_fine():
    header = "SYMBOL|CUSIP|SETTLEMENT DATE|PRICE|DESCRIPTION|QUANTITY (FAILS)"
    row = "GME|36467W109|20210129|193.60|GAMESTOP CORP (HLDG CO) CL A|138179"
    assert parse_ftd_text(_text(row, header=header).replace(b"of shares 0", b"of shares 138179"), NAME).table.equals(
        parse_ftd_text(_text(ROWS[0]), NAME).table)


@pytest.mark.parametrize("header, fragment", [
    (HEADER.replace("|PRICE", ""), "missing column(s) ['PRICE']"),
    (HEADER.replace("SYMBOL", "TICKER"), "unexpected column(s) ['TICKER']"),
    (HEADER + "|EXCHANGE", "unexpected column(s) ['EXCHANGE']"),
])
def test_bad_headers(header, fragment):
    _raises(_text(header=header), 1, fragment)


@pytest.mark.parametrize("row, fragment", [
    (ROWS[1].replace("298191", "29819l"), "non-numeric value '29819l' in column QUANTITY (FAILS)"),
    (ROWS[1].replace("298191", ""), "non-numeric value '' in column QUANTITY (FAILS)"),
    (ROWS[1].replace("298191", "-298191"), "negative value '-298191' in column QUANTITY (FAILS)"),
    (ROWS[1].replace("|.", "|-1.50"), "negative value '-1.50' in column PRICE"),
    (ROWS[1].replace("|.", "|abc"), "non-numeric value 'abc' in column PRICE"),
    (ROWS[1].replace("|ZNGA|", "||"), "blank SYMBOL"),
    (ROWS[1].replace("98986T108", "98986T10"), "CUSIP '98986T10' is not 9 letters/digits"),
    (ROWS[1].replace("20210129", "2021-01-29"), "bad date '2021-01-29'"),
    (ROWS[1] + "|NYSE", "expected 6 fields, got 7"),
    (ROWS[0], "duplicate row for CUSIP 36467W109 on 2021-01-29 (first at line 2)"),
])
def test_bad_rows_name_file_line_problem(row, fragment):
    _raises(_text(ROWS[0], row), 3, fragment)


def test_non_utf8_and_empty():
    _raises(_text(*ROWS).replace(b"ZYNGA", b"ZYN\x93A"), 3, "not UTF-8: byte 0x93")
    _raises(b"", None, "empty file")
    _raises(b"", None, "empty file (0 bytes), not a zip", fn=parse_ftd_zip, source="cnsfails202101b.zip")


def test_zip_member_name_is_recorded_and_contents_trusted():
    parsed = parse_ftd_zip(_zip(_text(*ROWS), member="cnsfails202101a.txt"), "cnsfails202101b.zip")
    assert parsed.member == "cnsfails202101a.txt" and parsed.table.num_rows == 2
    assert parsed.notes == ["zip cnsfails202101b.zip holds cnsfails202101a.txt; contents trusted"]
    # Errors inside the member name both the zip and the member.
    _raises(_zip(_text(*ROWS, count=9)), 4, "trailer record count 9", exc=ReconciliationError,
            fn=parse_ftd_zip, source="cnsfails202101b.zip")


def test_truncated_and_corrupt_zips():
    good = _zip(_text(*ROWS))
    _raises(good[: len(good) // 2], None, "not a readable zip", fn=parse_ftd_zip, source="cnsfails202101b.zip")
    _raises(b"<html>Request Rate Threshold Exceeded</html>", None, "not a readable zip", fn=parse_ftd_zip,
            source="cnsfails202101b.zip")
    start = good.index(b"cnsfails202101b.txt") + len("cnsfails202101b.txt")  # first bytes of the deflate data
    corrupt = good[:start + 5] + bytes(b ^ 0xFF for b in good[start + 5:start + 25]) + good[start + 25:]
    _raises(corrupt, None, "corrupt zip member cnsfails202101b.txt", fn=parse_ftd_zip, source="cnsfails202101b.zip")
    two = io.BytesIO()
    with zipfile.ZipFile(two, "w") as archive:
        archive.writestr("a.txt", b"x")
        archive.writestr("b.txt", b"y")
    _raises(two.getvalue(), None, "expected one member", fn=parse_ftd_zip, source="cnsfails202101b.zip")


INDEX_HTML = """<html><body><div class="accordion">
<a href="/files/data/fails-deliver-data/cnsfails202104b.zip">April 2021, second half</a>
<a href='https://www.sec.gov/files/data/fails-deliver-data/cnsfails202009a.zip'>September 2020, first half</a>
<a href="/files/node/add/data_distribution/cnsfails202003a.zip">March 2020</a>
<a href="/files/data/fails-deliver-data/cnsfails201910a_0.zip">October 2019</a>
<a href="/files/data/frequently-requested-foia-document-fails-deliver-data/cnsfails201706a.zip">June 2017</a>
<a href="/files/data/fails-deliver-data/cnsfails202104b.zip">duplicate link</a>
<a href="/files/data/fails-deliver-data/cnsfails202113a.zip">bad month</a>
<a href="/about">About</a><a>no href</a>
</div></body></html>"""


def test_index_scraper_takes_irregular_links():
    links = parse_ftd_index(INDEX_HTML, "index")
    assert [link.period for link in links] == ["201706a", "201910a", "202003a", "202009a", "202104b"]
    by_period = {link.period: link for link in links}
    assert by_period["201910a"].path == "files/data/fails-deliver-data/cnsfails201910a_0.zip"
    assert by_period["202003a"].url == "https://www.sec.gov/files/node/add/data_distribution/cnsfails202003a.zip"
    assert by_period["202009a"].name == "cnsfails202009a.zip"
    local = parse_ftd_index(INDEX_HTML.encode(), "index", base_url="http://127.0.0.1:8080")
    assert local[-1] == FtdLink(2021, 4, "b", "files/data/fails-deliver-data/cnsfails202104b.zip",
                                "http://127.0.0.1:8080/files/data/fails-deliver-data/cnsfails202104b.zip")


def test_index_without_links_is_an_error():
    with pytest.raises(ParseError, match="no cnsfails") as info:
        parse_ftd_index("<html><body>Maintenance</body></html>", "https://www.sec.gov/index")
    assert "https://www.sec.gov/index" in str(info.value)


class _Clock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class _Inner:
    def __init__(self, clock):
        self.clock = clock
        self.calls = []
        self.base_url = "http://inner"

    def describe(self, path, params=None):
        return f"inner/{path}"

    def get(self, path, params=None, *, what, not_published=(403, 404), headers=None):
        self.calls.append((self.clock.now, path))
        return b"ok"


def test_rate_limiter_spaces_requests_at_ten_per_second():
    clock = _Clock()
    inner = _Inner(clock)
    fetcher = RateLimitedFetcher(inner, 10, clock=clock.time, sleep=clock.sleep)
    for i in range(5):
        assert fetcher.get(f"p{i}", what="x") == b"ok"
    starts = [t for t, _ in inner.calls]
    assert [round(b - a, 6) for a, b in zip(starts, starts[1:])] == [0.1] * 4
    clock.now += 5  # an idle gap needs no sleep
    fetcher.get("late", what="x")
    assert len(clock.sleeps) == 4 and fetcher.base_url == "http://inner" and fetcher.describe("a") == "inner/a"
