"""Synthetic short-sale, short-interest and fails-to-deliver files in their upstream formats.

Files land in the replay layout (``<root>/finra_cdn/<CDN path>`` and ``<root>/sec/<sec.gov path>``),
so the same folder feeds :class:`~dagster_project.sources.transport.ReplayFetcher` and a local HTTP
server. Output is deterministic by seed, and each day / settlement date / half-month draws from its
own seeded generator, so widening the date range never changes files already written. The symbol
universe is the caller's (the FINRA weekly synthetic universe), with an optional typical daily
volume per symbol.

Consistency the real files have and the parsers check: CNMS equals FNSQ+FNQC+FNYX+FNRA per symbol,
ShortExemptVolume <= ShortVolume <= TotalVolume, trailers match, short-interest change equals
current - previous (previous = the same generator's value at the prior settlement date), and the
FTD trailers carry the exact record count and total quantity.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np

from dagster_project.publication_calendar import (
    business_days,
    ftd_expected_publication,
    ftd_period_bounds,
    ftd_periods,
    short_interest_settlement_dates,
)
from dagster_project.sources.regsho import CNMS_COMPONENTS, FACILITY_MARKET, REGSHO_COLUMNS, regsho_path
from dagster_project.sources.sec_ftd import FTD_COLUMNS, FTD_INDEX_PATH, ftd_path
from dagster_project.sources.short_interest import CDN_COLUMNS, short_interest_path

DEFAULT_DAILY_VOLUME = 1_000_000
#: (share of a symbol's volume, probability the facility reports the symbol on a given day)
FACILITY_PROFILE = {"FNSQ": (0.55, 0.97), "FNYX": (0.30, 0.85), "FNQC": (0.15, 0.35), "FNRA": (0.05, 0.01)}
#: CNMS lists the facilities in this order (``B,Q,N`` in real files).
CNMS_MARKET_ORDER = ("FNQC", "FNSQ", "FNYX", "FNRA")
_SIX = Decimal("0.000001")
_MARKET_CLASSES = (("A", "NYSE"), ("Q", "NNM"), ("R", "NASDAQ"), ("S", "OTC"))


def _key(*parts) -> list[int]:
    """Stable integer seed material (Python's hash() is salted per process)."""
    return [p if isinstance(p, int) else zlib.crc32(str(p).encode()) for p in parts]


def _rng(seed: int, *parts) -> np.random.Generator:
    return np.random.default_rng(_key(seed, *parts))


def _volume(symbol: str, typical_volume: dict[str, float] | None) -> float:
    return float((typical_volume or {}).get(symbol, DEFAULT_DAILY_VOLUME))


def _universe(symbols: Iterable[str]) -> list[str]:
    out = sorted({s.strip() for s in symbols})
    if not out or any(not s or "|" in s for s in out):
        raise ValueError("symbols must be a non-empty list of non-blank symbols without '|'")
    return out


def _fmt(value: Decimal) -> str:
    """FINRA style: integers without decimals, fractions without trailing zeros."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# ------------------------------------------------------------------------------- Reg SHO daily

def regsho_day(symbols: list[str], trade_date: date, *, seed: int = 0,
               typical_volume: dict[str, float] | None = None, otc_symbols: Iterable[str] = (),
               fractional: bool = False) -> dict[str, list[tuple[str, Decimal, Decimal, Decimal, str]]]:
    """Rows ``(symbol, short, short_exempt, total, market)`` per facility file for one trade date."""
    rng = _rng(seed, "regsho", trade_date.toordinal())
    files: dict[str, list] = {name: [] for name in ("CNMS", *CNMS_COMPONENTS, "FORF")}
    for symbol in _universe(symbols):
        base = _volume(symbol, typical_volume) * rng.lognormal(0.0, 0.35)
        parts: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
        for facility, (share, prob) in FACILITY_PROFILE.items():
            present = rng.random() < prob
            parts_draw = rng.random(3)
            if not present:
                continue
            total = _quantity(base * share * (0.5 + parts_draw[0]), fractional and parts_draw[2] < 0.2)
            short = (total * Decimal(str(round(0.25 + 0.4 * parts_draw[1], 4)))).quantize(
                _SIX if fractional else Decimal(1), rounding=ROUND_DOWN)
            exempt = (short * Decimal("0.01")).quantize(Decimal(1), rounding=ROUND_DOWN) if parts_draw[2] > 0.5 else Decimal(0)
            parts[facility] = (short, exempt, total)
        if not parts:
            total = _quantity(base * 0.5, False)
            parts["FNSQ"] = (total // 2, Decimal(0), total)
        for facility, (short, exempt, total) in parts.items():
            files[facility].append((symbol, short, exempt, total, FACILITY_MARKET[facility]))
        sums = [sum(p[i] for p in parts.values()) for i in range(3)]
        market = ",".join(FACILITY_MARKET[f] for f in CNMS_MARKET_ORDER if f in parts)
        files["CNMS"].append((symbol, sums[0], sums[1], sums[2], market))
    for symbol in sorted(set(otc_symbols)):
        total = _quantity(_volume(symbol, typical_volume) * rng.lognormal(0.0, 0.5), False)
        short = (total * Decimal(str(round(0.2 + 0.4 * rng.random(), 4)))).quantize(Decimal(1), rounding=ROUND_DOWN)
        files["FORF"].append((symbol, short, Decimal(0), total, FACILITY_MARKET["FORF"]))
    return files


def _quantity(value: float, fractional: bool) -> Decimal:
    whole = Decimal(max(int(value), 1))
    if not fractional:
        return whole
    return whole + Decimal(int(value * 1_000_000) % 1_000_000) * _SIX


def write_regsho_files(root: Path, symbols: list[str], start: date, end: date, *, seed: int = 0,
                       typical_volume: dict[str, float] | None = None, otc_symbols: Iterable[str] = (),
                       fractional: bool = False) -> list[Path]:
    """Write every facility's daily file (CNMS, FNSQ, FNQC, FNYX, FNRA, FORF) for each NYSE day in range.

    ``fractional`` puts fractional share volumes into about a fifth of the rows, as in newer files.
    FNRA is usually header + trailer ``0``, like the real ADF file; FORF holds only ``otc_symbols``.
    """
    written = []
    for day in business_days(start, end):
        for facility, rows in regsho_day(symbols, day, seed=seed, typical_volume=typical_volume,
                                         otc_symbols=otc_symbols, fractional=fractional).items():
            lines = ["|".join(REGSHO_COLUMNS)]
            lines += [f"{day:%Y%m%d}|{sym}|{_fmt(sv)}|{_fmt(sev)}|{_fmt(tv)}|{mkt}" for sym, sv, sev, tv, mkt in rows]
            lines.append(str(len(rows)))
            path = Path(root) / "finra_cdn" / regsho_path(facility, day)
            _write(path, ("\r\n".join(lines) + "\r\n").encode())
            written.append(path)
    return written


# ------------------------------------------------------------------------------- short interest

def _short_position(seed: int, symbol: str, settlement: date, adv: float) -> int:
    rng = _rng(seed, "si-position", symbol, settlement.toordinal())
    if rng.random() < 0.03:
        return 0
    return int(adv * rng.uniform(0.2, 6.0))


def _previous_settlement(settlement: date) -> date:
    return short_interest_settlement_dates(settlement - timedelta(days=40), settlement - timedelta(days=1))[-1]


def short_interest_records(symbols: list[str], settlement_date: date, *, seed: int = 0,
                           typical_volume: dict[str, float] | None = None) -> list[dict]:
    """Rows for one settlement date as ``consolidatedShortInterest`` JSON records (API field names).

    The CDN file writer serialises the same records, so a synthetic API replay and the CDN file agree.
    """
    previous_date = _previous_settlement(settlement_date)
    records = []
    for symbol in _universe(symbols):
        typical = _volume(symbol, typical_volume)
        current = _short_position(seed, symbol, settlement_date, typical)
        previous = _short_position(seed, symbol, previous_date, typical)
        rng = _rng(seed, "si-row", symbol, settlement_date.toordinal())
        adv = 0 if rng.random() < 0.05 else int(typical * rng.uniform(0.5, 1.5))
        if adv == 0:
            days = Decimal("999.99")
        else:
            days = min(max(Decimal(current) / Decimal(adv), Decimal(1)), Decimal("999.99"))
        change = current - previous
        pct = Decimal(100) if previous == 0 else Decimal(change) * 100 / Decimal(previous)
        exchange, market_class = _MARKET_CLASSES[zlib.crc32(symbol.encode()) % len(_MARKET_CLASSES)]
        records.append({
            "accountingYearMonthNumber": int(f"{settlement_date:%Y%m%d}"),
            "symbolCode": symbol,
            "issueName": f"{symbol} Synthetic Holdings Inc"[:30],
            "issuerServicesGroupExchangeCode": exchange,
            "marketClassCode": market_class,
            "currentShortPositionQuantity": current,
            "previousShortPositionQuantity": previous,
            "stockSplitFlag": "S" if rng.random() < 0.005 else None,
            "averageDailyVolumeQuantity": adv,
            "daysToCoverQuantity": float(days.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
            "revisionFlag": "R" if rng.random() < 0.005 else None,
            "changePercent": float(pct.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
            "changePreviousNumber": change,
            "settlementDate": settlement_date.isoformat(),
        })
    return records


def write_short_interest_files(root: Path, symbols: list[str], start: date, end: date, *, seed: int = 0,
                               typical_volume: dict[str, float] | None = None) -> list[Path]:
    """Write the pipe-delimited CDN file ``shrt{YYYYMMDD}.csv`` for each settlement date in range."""
    written = []
    for settlement in short_interest_settlement_dates(start, end):
        lines = ["|".join(CDN_COLUMNS)]
        for record in short_interest_records(symbols, settlement, seed=seed, typical_volume=typical_volume):
            lines.append("|".join(_cdn_text(record[c]) for c in CDN_COLUMNS))
        path = Path(root) / "finra_cdn" / short_interest_path(settlement)
        _write(path, ("\n".join(lines) + "\n").encode())
        written.append(path)
    return written


def _cdn_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


# ------------------------------------------------------------------------------- SEC fails-to-deliver

def synthetic_cusip(symbol: str) -> str:
    """A deterministic 9-character CUSIP with a valid check digit."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
    n = zlib.crc32(f"cusip:{symbol}".encode())
    body = ""
    for _ in range(6):
        n, r = divmod(n, len(alphabet))
        body += alphabet[r]
    body += "10"  # issue number: common equity
    return body + _cusip_check_digit(body)


def _cusip_check_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(body):
        v = int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10
        if i % 2 == 1:
            v *= 2
        total += v // 10 + v % 10
    return str((10 - total % 10) % 10)


def ftd_rows(symbols: list[str], year: int, month: int, half: str, *, start: date | None = None,
             end: date | None = None, seed: int = 0, typical_volume: dict[str, float] | None = None,
             cusips: dict[str, str] | None = None) -> list[tuple[date, str, str, int, str, str]]:
    """Rows ``(settlement_date, cusip, symbol, quantity, description, price_text)`` of one half-month."""
    first, last = ftd_period_bounds(year, month, half)
    days = business_days(max(first, start or first), min(last, end or last))
    rows = []
    for day in days:
        rng = _rng(seed, "ftd", day.toordinal())
        for symbol in _universe(symbols):
            fails, size, price_draw, dot = rng.random(4)
            if fails > 0.6:
                continue
            quantity = int(_volume(symbol, typical_volume) * (0.0005 + 0.02 * size)) + 1
            base = 5 + zlib.crc32(symbol.encode()) % 400
            price = "." if dot < 0.03 else f"{base * (0.9 + 0.2 * price_draw):.2f}"
            cusip = (cusips or {}).get(symbol) or synthetic_cusip(symbol)
            rows.append((day, cusip, symbol, quantity, f"{symbol} SYNTHETIC CORP COM"[:30], price))
    rows.sort(key=lambda r: (r[0], r[1]))
    return rows


def write_ftd_files(root: Path, symbols: list[str], start: date, end: date, *, seed: int = 0,
                    typical_volume: dict[str, float] | None = None, cusips: dict[str, str] | None = None) -> list[Path]:
    """Write ``cnsfails{YYYYMM}{a|b}.zip`` for each half-month overlapping the range, then the index page.

    Rows cover the business days of each half-month inside ``[start, end]``. The index page lists every
    zip in the folder (also ones written by earlier calls), with relative links as on sec.gov.
    """
    written = []
    for year, month, half in ftd_periods(start, end):
        rows = ftd_rows(symbols, year, month, half, start=start, end=end, seed=seed,
                        typical_volume=typical_volume, cusips=cusips)
        if not rows:
            continue
        lines = ["|".join(FTD_COLUMNS)]
        lines += [f"{d:%Y%m%d}|{c}|{s}|{q}|{desc}|{p}" for d, c, s, q, desc, p in rows]
        lines.append(f"Trailer record count {len(rows)}")
        lines.append(f"Trailer total quantity of shares {sum(r[3] for r in rows)}")
        path = Path(root) / "sec" / ftd_path(year, month, half)
        _write(path, _zip_bytes(f"cnsfails{year:04d}{month:02d}{half}.txt", ("\n".join(lines) + "\n").encode(),
                                ftd_expected_publication(year, month, half)))
        written.append(path)
    index = write_ftd_index(root)
    return written + [index]


def write_ftd_index(root: Path) -> Path:
    """(Re)write the SEC index page listing every synthetic zip under ``<root>/sec``."""
    sec = Path(root) / "sec"
    zips = sorted(sec.glob("files/**/cnsfails*.zip"), reverse=True)
    items = "\n".join(f'<li><a href="/{z.relative_to(sec).as_posix()}">{z.stem}</a></li>' for z in zips)
    html = (f"<!DOCTYPE html>\n<html><head><title>Fails-to-Deliver Data</title></head><body>\n"
            f"<h1>Fails-to-Deliver Data</h1>\n<a href=\"/data-research\">Data &amp; Research</a>\n"
            f"<ul>\n{items}\n</ul>\n</body></html>\n")
    path = sec / FTD_INDEX_PATH
    _write(path, html.encode())
    return path


def _zip_bytes(member: str, payload: bytes, stamp: date) -> bytes:
    """A one-member zip stamped with the day the SEC would publish it (real zips carry that date), so
    the same data gives byte-identical zips and the published-before-due check sees a realistic date."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(member, date_time=(stamp.year, stamp.month, stamp.day, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, payload)
    return buffer.getvalue()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
