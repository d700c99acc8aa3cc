"""SEC fails-to-deliver (NSCC CNS fails): index scraping, polite fetching, zip and text parsing.

Historic file URLs are irregular (``frequently-requested-foia-document-...``, ``node/add/...``,
``cnsfails201910a_0.zip``), so links are taken from the SEC index page rather than built. The SEC asks
for a descriptive User-Agent with a contact address and at most 10 requests/second:
:func:`sec_fetcher` gives an HttpFetcher with both.

A half-month file is pipe-delimited with header ``SETTLEMENT DATE|CUSIP|SYMBOL|QUANTITY (FAILS)|
DESCRIPTION|PRICE`` and ends with two trailer lines (``Trailer record count N`` and ``Trailer total
quantity of shares N``); both are reconciled. The zip's member name can differ from the zip's own
name (the real 202104b zip holds ``cnsfails202103b.txt``): the contents are trusted and the member
name is recorded. Quantities are the net balance outstanding on the settlement date, not new fails.
"""

from __future__ import annotations

import io
import re
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import urljoin, urlparse

import pyarrow as pa

from dagster_project.errors import ParseError, ReconciliationError
from dagster_project.settings import contact_user_agent, source_url
from dagster_project.sources.regsho import (
    decode_utf8,
    header_index,
    numbered_lines,
    parse_decimal,
    parse_int,
    parse_yyyymmdd,
    require_text,
)
from dagster_project.sources.transport import Fetcher, HttpFetcher

FTD_INDEX_PATH = "data-research/sec-markets-data/fails-deliver-data"
FTD_COLUMNS = ("SETTLEMENT DATE", "CUSIP", "SYMBOL", "QUANTITY (FAILS)", "DESCRIPTION", "PRICE")
PRICE_TYPE = pa.decimal128(18, 6)
PRICE_SCALE = 6
#: Largest member we inflate; real half-month files are ~5 MB, so anything far larger is not one.
MAX_MEMBER_BYTES = 256 * 1024 * 1024
SEC_MAX_REQUESTS_PER_SECOND = 10.0

FTD_SCHEMA = pa.schema([
    pa.field("settlement_date", pa.date32(), nullable=False),
    pa.field("cusip", pa.string(), nullable=False),
    pa.field("symbol", pa.string(), nullable=False),
    pa.field("quantity", pa.int64(), nullable=False),
    pa.field("description", pa.string()),
    pa.field("price", PRICE_TYPE),
])

_LINK_RE = re.compile(r"cnsfails(\d{4})(\d{2})([ab])(?:_\d+)?\.zip$", re.IGNORECASE)
_CUSIP_RE = re.compile(r"^[0-9A-Z*@#]{9}$")
_TRAILER_COUNT_RE = re.compile(r"^Trailer record count\s+(\d+)\s*$")
_TRAILER_TOTAL_RE = re.compile(r"^Trailer total quantity of shares\s+(\d+)\s*$")


# ----------------------------------------------------------------------------- links and fetching

@dataclass(frozen=True, order=True)
class FtdLink:
    """One half-month file as linked from the SEC index page. ``path`` is relative to the SEC host."""

    year: int
    month: int
    half: str
    path: str
    url: str

    @property
    def name(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def period(self) -> str:
        return f"{self.year:04d}{self.month:02d}{self.half}"


def ftd_path(year: int, month: int, half: str) -> str:
    """The regular (post-2020) path of a half-month zip; historic files may live elsewhere."""
    if half not in ("a", "b"):
        raise ValueError(f"half must be 'a' or 'b', got {half!r}")
    return f"files/data/fails-deliver-data/cnsfails{year:04d}{month:02d}{half}.zip"


class _LinkCollector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag.lower() == "a":
            for name, value in attrs:
                if name.lower() == "href" and value:
                    self.hrefs.append(value.strip())


def parse_ftd_index(html: bytes | str, source: str, base_url: str | None = None) -> list[FtdLink]:
    """All ``cnsfails{YYYYMM}{a|b}[_n].zip`` links on the index page, one per half-month, oldest first.

    Relative links resolve against ``base_url`` (default: the SEC base URL). When a half-month is
    linked twice the first link on the page wins. A page with no such link raises ParseError: that
    is a changed page, never "no data".
    """
    base = (base_url or source_url("SEC")).rstrip("/")
    text = html.decode("utf-8", errors="replace") if isinstance(html, bytes) else html
    collector = _LinkCollector()
    collector.feed(text)
    collector.close()
    page_url = f"{base}/{FTD_INDEX_PATH}"
    found: dict[tuple[int, int, str], FtdLink] = {}
    for href in collector.hrefs:
        url = urljoin(page_url, href)
        path = urlparse(url).path
        match = _LINK_RE.search(path)
        if not match:
            continue
        year, month, half = int(match.group(1)), int(match.group(2)), match.group(3).lower()
        if not 1 <= month <= 12:
            continue
        found.setdefault((year, month, half), FtdLink(year, month, half, path.lstrip("/"), url))
    if not found:
        raise ParseError(source, "no cnsfails*.zip links on the fails-to-deliver index page (page layout changed?)")
    return sorted(found.values())


def list_ftd_files(fetcher: Fetcher) -> list[FtdLink]:
    """Links of every published half-month file, from the SEC index page."""
    html = fetcher.get(FTD_INDEX_PATH, what="SEC fails-to-deliver index page", not_published=())
    base = getattr(fetcher, "base_url", None)
    return parse_ftd_index(html, fetcher.describe(FTD_INDEX_PATH), base_url=base)


def fetch_ftd_zip(fetcher: Fetcher, link: FtdLink) -> bytes:
    return fetcher.get(link.path, what=f"SEC fails-to-deliver {link.period} ({link.name})", not_published=(403, 404))


class RateLimitedFetcher:
    """Wraps a fetcher so calls start at most ``max_per_second`` apart (thread-safe)."""

    def __init__(self, inner: Fetcher, max_per_second: float = SEC_MAX_REQUESTS_PER_SECOND, *,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep):
        if max_per_second <= 0:
            raise ValueError("max_per_second must be > 0")
        self.inner = inner
        self.interval = 1.0 / max_per_second
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_start: float | None = None

    def __getattr__(self, name):  # base_url, source, session ... of the wrapped fetcher
        return getattr(self.inner, name)

    def describe(self, path: str, params: dict | None = None) -> str:
        return self.inner.describe(path, params)

    def get(self, path, params=None, *, what, not_published=(403, 404), headers=None) -> bytes:
        with self._lock:
            now = self._clock()
            if self._next_start is not None and now < self._next_start:
                self._sleep(self._next_start - now)
                now = self._next_start
            self._next_start = now + self.interval
        return self.inner.get(path, params, what=what, not_published=not_published, headers=headers)


def sec_fetcher(base_url: str | None = None, max_per_second: float = SEC_MAX_REQUESTS_PER_SECOND) -> RateLimitedFetcher:
    """HTTP fetcher for sec.gov with the contact User-Agent the SEC requires, capped at 10 requests/s."""
    return RateLimitedFetcher(HttpFetcher("SEC", contact_user_agent(), base_url=base_url), max_per_second)


# ----------------------------------------------------------------------------- parsing

@dataclass(frozen=True)
class FtdFile:
    """A parsed half-month file and what an operator should know about it."""

    table: pa.Table
    member: str | None
    trailer_record_count: int | None
    trailer_total_quantity: int | None
    total_quantity: int
    notes: list[str] = field(default_factory=list)
    #: Date stamped on the zip member: the day the SEC packed the file (None for a bare text file).
    member_stamp: date | None = None

    @property
    def has_trailer(self) -> bool:
        return self.trailer_record_count is not None

    @property
    def first_settlement_date(self) -> date | None:
        return min(self.table.column("settlement_date").to_pylist(), default=None)

    @property
    def last_settlement_date(self) -> date | None:
        return max(self.table.column("settlement_date").to_pylist(), default=None)


def parse_ftd_zip(data: bytes, source: str, *, require_trailer: bool = True) -> FtdFile:
    """Unzip the single text member and parse it. A truncated or corrupt zip raises ParseError."""
    if not data:
        raise ParseError(source, "empty file (0 bytes), not a zip")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ParseError(source, f"not a readable zip (truncated or corrupt): {exc}") from None
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        if len(members) != 1:
            raise ParseError(source, f"expected one member in the zip, found {[m.filename for m in members]}")
        member = members[0]
        if member.file_size > MAX_MEMBER_BYTES:
            raise ParseError(source, f"member {member.filename} claims {member.file_size} bytes, too large for an FTD file")
        try:
            payload = archive.read(member)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as exc:
            raise ParseError(source, f"corrupt zip member {member.filename}: {exc}") from None
    result = parse_ftd_text(payload, f"{source}!{member.filename}", require_trailer=require_trailer)
    notes = list(result.notes)
    zip_stem = PurePosixPath(str(source).split("?")[0]).stem
    member_stem = PurePosixPath(member.filename).stem
    if _LINK_RE.search(f"{zip_stem}.zip") and not zip_stem.lower().startswith(member_stem.lower()):
        notes.append(f"zip {zip_stem}.zip holds {member.filename}; contents trusted")
    stamp = date(*member.date_time[:3]) if member.date_time[0] >= 1981 else None
    return FtdFile(result.table, member.filename, result.trailer_record_count, result.trailer_total_quantity,
                   result.total_quantity, notes, stamp)


def parse_ftd_text(data: bytes, source: str, *, require_trailer: bool = True) -> FtdFile:
    """Parse one unzipped half-month text file and reconcile both trailer lines.

    ``require_trailer=False`` accepts a file whose trailers were stripped (e.g. the 202101b copy in
    realdata); the returned ``notes`` say so, and nothing is reconciled.
    """
    text = decode_utf8(data, source)
    lines = numbered_lines(text)
    header_no, header = lines[0]
    cols = header_index(header.split("|"), FTD_COLUMNS, source, header_no)

    body = lines[1:]
    trailer_count = trailer_total = None
    count_line = total_line = None
    while body and body[-1][1].startswith("Trailer"):
        no, line = body.pop()
        if (m := _TRAILER_COUNT_RE.match(line)) and trailer_count is None:
            trailer_count, count_line = int(m.group(1)), no
        elif (m := _TRAILER_TOTAL_RE.match(line)) and trailer_total is None:
            trailer_total, total_line = int(m.group(1)), no
        else:
            raise ParseError(source, f"unrecognised trailer line {line!r}", no)
    notes: list[str] = []
    if trailer_count is None or trailer_total is None:
        seen = "record count" if trailer_count is not None else "total quantity" if trailer_total is not None else None
        if require_trailer or seen:
            problem = (f"only the {seen} trailer is present" if seen else
                       "no trailer lines (record count, total quantity); pass require_trailer=False to accept")
            raise ParseError(source, problem, (body[-1][0] + 1) if body else header_no + 1)
        notes.append("no trailer lines: record count and total quantity not reconciled (require_trailer=False)")

    dates, cusips, symbols, quantities, descriptions, prices = [], [], [], [], [], []
    first_seen: dict[tuple[date, str], int] = {}
    for no, line in body:
        if not line.strip():
            raise ParseError(source, "blank line inside the data", no)
        if line.startswith("Trailer"):
            raise ParseError(source, "trailer line before the end of the data", no)
        parts = line.split("|")
        if len(parts) != len(FTD_COLUMNS):
            raise ParseError(source, f"expected {len(FTD_COLUMNS)} fields, got {len(parts)}", no)
        settlement = parse_yyyymmdd(parts[cols["SETTLEMENT DATE"]], column="SETTLEMENT DATE", source=source, line=no)
        cusip = require_text(parts[cols["CUSIP"]], column="CUSIP", source=source, line=no)
        if not _CUSIP_RE.match(cusip):
            raise ParseError(source, f"CUSIP {cusip!r} is not 9 letters/digits", no)
        symbol = require_text(parts[cols["SYMBOL"]], column="SYMBOL", source=source, line=no)
        quantity = parse_int(parts[cols["QUANTITY (FAILS)"]], column="QUANTITY (FAILS)", source=source, line=no)
        price_text = parts[cols["PRICE"]].strip()
        price = (None if price_text in ("", ".") else
                 parse_decimal(price_text, column="PRICE", scale=PRICE_SCALE, source=source, line=no))
        key = (settlement, cusip)
        if key in first_seen:
            raise ParseError(source, f"duplicate row for CUSIP {cusip} on {settlement} (first at line {first_seen[key]})", no)
        first_seen[key] = no
        dates.append(settlement)
        cusips.append(cusip)
        symbols.append(symbol)
        quantities.append(quantity)
        descriptions.append(parts[cols["DESCRIPTION"]].strip() or None)
        prices.append(price)

    total = sum(quantities)
    if trailer_count is not None and trailer_count != len(cusips):
        raise ReconciliationError(source, f"trailer record count {trailer_count} != {len(cusips)} rows", count_line)
    if trailer_total is not None and trailer_total != total:
        raise ReconciliationError(source, f"trailer total quantity {trailer_total} != {total} summed from rows", total_line)
    table = pa.Table.from_arrays([
        pa.array(dates, pa.date32()),
        pa.array(cusips, pa.string()),
        pa.array(symbols, pa.string()),
        pa.array(quantities, pa.int64()),
        pa.array(descriptions, pa.string()),
        pa.array(prices, PRICE_TYPE),
    ], schema=FTD_SCHEMA)
    return FtdFile(table, None, trailer_count, trailer_total, total, notes)

