"""Synthetic writers -> replay folder -> fetch (ReplayFetcher and local HTTP) -> parse, end to end."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal

import pyarrow.compute as pc
import pytest

from dagster_project.errors import NotPublishedError, ParseError
from dagster_project.publication_calendar import business_days, short_interest_settlement_dates
from dagster_project.sources.regsho import (
    FACILITIES,
    check_cnms_consistency,
    fetch_regsho_file,
    parse_regsho_daily,
    regsho_path,
    total_volumes,
)
from dagster_project.sources.sec_ftd import fetch_ftd_zip, list_ftd_files, parse_ftd_zip, sec_fetcher
from dagster_project.sources.short_interest import (
    fetch_short_interest_file,
    parse_consolidated_short_interest_json,
    parse_short_interest_file,
    short_interest_path,
)
from dagster_project.sources.transport import HttpFetcher, ReplayFetcher
from dagster_project.synthetic.short_data import (
    short_interest_records,
    synthetic_cusip,
    write_ftd_files,
    write_regsho_files,
    write_short_interest_files,
)
from support.replay_server import Fault

SYMBOLS = ["AAPL", "MSFT", "GME", "BRK.B", "TSLA", "SPY", "AMC", "F"]
VOLUME = {"AAPL": 60_000_000, "SPY": 80_000_000, "F": 50_000_000, "AMC": 5_000}
START, END = date(2026, 1, 12), date(2026, 2, 6)


def _digest(paths):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_writers_are_deterministic_and_range_stable(tmp_path):
    a = write_regsho_files(tmp_path / "a", SYMBOLS, START, END, seed=7, typical_volume=VOLUME, fractional=True)
    b = write_regsho_files(tmp_path / "b", SYMBOLS, START, END, seed=7, typical_volume=VOLUME, fractional=True)
    c = write_regsho_files(tmp_path / "c", SYMBOLS, date(2026, 1, 14), date(2026, 1, 14), seed=7,
                           typical_volume=VOLUME, fractional=True)
    d = write_regsho_files(tmp_path / "d", SYMBOLS, START, END, seed=8, typical_volume=VOLUME, fractional=True)
    assert _digest(a) == _digest(b)
    assert all(_digest(a)[name] == h for name, h in _digest(c).items())  # a narrower range writes the same files
    assert _digest(a) != _digest(d)
    assert len(a) == 6 * len(business_days(START, END))
    for writer in (write_short_interest_files, write_ftd_files):
        one = writer(tmp_path / "e", SYMBOLS, START, END, seed=3, typical_volume=VOLUME)
        two = writer(tmp_path / "f", SYMBOLS, START, END, seed=3, typical_volume=VOLUME)
        assert _digest(one) == _digest(two)


def test_regsho_replay_round_trip_and_cnms_consistency(tmp_path):
    write_regsho_files(tmp_path, SYMBOLS, START, END, seed=1, typical_volume=VOLUME, otc_symbols=["HCMC", "AITX"],
                       fractional=True)
    fetcher = ReplayFetcher("FINRA_CDN", tmp_path)
    fractional_rows = 0
    for day in business_days(START, END):
        tables = {}
        for facility in FACILITIES:
            data = fetch_regsho_file(fetcher, facility, day)
            tables[facility] = parse_regsho_daily(data, fetcher.describe(regsho_path(facility, day))).table
        check_cnms_consistency(tables["CNMS"], tables, str(day))
        assert tables["CNMS"].column("symbol").to_pylist() == sorted(SYMBOLS)
        assert sorted(tables["FORF"].column("symbol").to_pylist()) == ["AITX", "HCMC"]
        fractional_rows += sum(1 for v in tables["CNMS"].column("total_volume").to_pylist() if v != int(v))
        sv, sev, tv = total_volumes(tables["CNMS"])
        assert sev <= sv <= tv
    assert fractional_rows > 0  # the decimal path is exercised
    aapl = tables["CNMS"].filter(pc.equal(tables["CNMS"].column("symbol"), "AAPL")).column("total_volume")[0].as_py()
    amc = tables["CNMS"].filter(pc.equal(tables["CNMS"].column("symbol"), "AMC")).column("total_volume")[0].as_py()
    assert aapl > 1000 * amc  # per-symbol typical volume is honoured
    with pytest.raises(NotPublishedError):
        fetch_regsho_file(fetcher, "CNMS", date(2026, 1, 19))  # MLK day: no file


def test_short_interest_replay_and_json_agree(tmp_path):
    paths = write_short_interest_files(tmp_path, SYMBOLS, START, END, seed=2, typical_volume=VOLUME)
    settlements = short_interest_settlement_dates(START, END)
    assert settlements == [date(2026, 1, 15), date(2026, 1, 30)] and len(paths) == 2
    fetcher = ReplayFetcher("FINRA_CDN", tmp_path)
    first = parse_short_interest_file(fetch_short_interest_file(fetcher, settlements[0]),
                                      fetcher.describe(short_interest_path(settlements[0])))
    second = parse_short_interest_file(fetch_short_interest_file(fetcher, settlements[1]),
                                       fetcher.describe(short_interest_path(settlements[1])))
    # previous_short of one cycle is current_short of the one before.
    assert second.column("previous_short").to_pylist() == first.column("current_short").to_pylist()
    records = short_interest_records(SYMBOLS, settlements[1], seed=2, typical_volume=VOLUME)
    pages = [json.dumps(records[:3]).encode(), json.dumps(records[3:]).encode()]
    from_json = parse_consolidated_short_interest_json(pages, "synthetic", settlement_date=settlements[1])
    assert from_json.drop_columns(["source_format"]).equals(second.drop_columns(["source_format"]))
    amc = second.filter(pc.equal(second.column("symbol"), "AMC")).to_pylist()[0]
    assert amc["days_to_cover"] is None or amc["days_to_cover"] >= Decimal(1)
    with pytest.raises(NotPublishedError):
        fetch_short_interest_file(fetcher, date(2026, 1, 16))


def test_ftd_replay_round_trip(tmp_path):
    written = write_ftd_files(tmp_path, SYMBOLS, START, END, seed=4, typical_volume=VOLUME)
    assert [p.name for p in written] == ["cnsfails202601a.zip", "cnsfails202601b.zip", "cnsfails202602a.zip",
                                         "fails-deliver-data"]
    fetcher = ReplayFetcher("SEC", tmp_path)
    links = list_ftd_files(fetcher)
    assert [link.period for link in links] == ["202601a", "202601b", "202602a"]
    seen_dates = set()
    for link in links:
        parsed = parse_ftd_zip(fetch_ftd_zip(fetcher, link), link.url)
        assert parsed.member == link.name.replace(".zip", ".txt") and parsed.notes == []
        assert parsed.trailer_record_count == parsed.table.num_rows > 0
        assert parsed.trailer_total_quantity == parsed.total_quantity
        seen_dates |= set(parsed.table.column("settlement_date").to_pylist())
        assert set(parsed.table.column("cusip").to_pylist()) <= {synthetic_cusip(s) for s in SYMBOLS}
    assert seen_dates <= set(business_days(START, END)) and min(seen_dates) >= START


def test_synthetic_cusip_check_digit():
    # Known real CUSIPs validate with the same check-digit routine (037833100 = Apple, 36467W109 = GameStop).
    from dagster_project.synthetic.short_data import _cusip_check_digit
    assert _cusip_check_digit("03783310") == "0" and _cusip_check_digit("36467W10") == "9"
    assert len(synthetic_cusip("AAPL")) == 9 and synthetic_cusip("AAPL") == synthetic_cusip("AAPL")


def test_fetch_over_local_http(tmp_path, replay_http, fast_policy):
    write_regsho_files(tmp_path, SYMBOLS, START, START, seed=5)
    write_short_interest_files(tmp_path, SYMBOLS, date(2026, 1, 15), date(2026, 1, 15), seed=5)
    server = replay_http(tmp_path, "FINRA_CDN")
    base_url = server.url
    fetcher = HttpFetcher("FINRA_CDN", "dealerflow-tests", base_url=base_url, policy=fast_policy)
    data = fetch_regsho_file(fetcher, "CNMS", START)
    assert data == (tmp_path / "finra_cdn" / regsho_path("CNMS", START)).read_bytes()
    parsed = parse_regsho_daily(data, fetcher.describe(regsho_path("CNMS", START)))
    assert parsed.table.num_rows == len(SYMBOLS)
    si = parse_short_interest_file(fetch_short_interest_file(fetcher, date(2026, 1, 15)),
                                   fetcher.describe(short_interest_path(date(2026, 1, 15))))
    assert si.num_rows == len(SYMBOLS)
    with pytest.raises(NotPublishedError, match="HTTP 404"):
        fetch_regsho_file(fetcher, "CNMS", date(2026, 1, 13))
    server.fail(regsho_path("FNSQ", START), Fault(403, body=b"<Error><Code>AccessDenied</Code></Error>"))
    with pytest.raises(NotPublishedError, match="HTTP 403"):
        fetch_regsho_file(fetcher, "FNSQ", START)


def test_sec_fetch_over_local_http_sends_contact_user_agent(tmp_path, replay_http, monkeypatch):
    monkeypatch.setenv("DEALERFLOW_CONTACT", "ops@dealerflow.test")
    monkeypatch.setenv("DEALERFLOW_HTTP_RETRIES", "0")
    write_ftd_files(tmp_path, SYMBOLS, START, date(2026, 1, 20), seed=6)
    server = replay_http(tmp_path, "SEC")
    base_url = server.url
    fetcher = sec_fetcher(base_url=base_url, max_per_second=10)
    links = list_ftd_files(fetcher)
    assert [link.url for link in links] == [f"{base_url}/files/data/fails-deliver-data/cnsfails202601a.zip",
                                            f"{base_url}/files/data/fails-deliver-data/cnsfails202601b.zip"]
    parsed = [parse_ftd_zip(fetch_ftd_zip(fetcher, link), link.url) for link in links]
    assert all(p.trailer_record_count == p.table.num_rows for p in parsed)
    agents = {r["headers"].get("User-Agent") for r in server.requests}
    assert len(server.requests) == 3 and len(agents) == 1
    assert "ops@dealerflow.test" in agents.pop()
    # A truncated download is a ParseError naming the file, not a crash.
    zip_file = tmp_path / "sec" / links[0].path
    zip_file.write_bytes(zip_file.read_bytes()[:200])
    with pytest.raises(ParseError, match="cnsfails202601a.zip: not a readable zip"):
        parse_ftd_zip(fetch_ftd_zip(fetcher, links[0]), links[0].url)
