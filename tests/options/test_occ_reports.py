"""OCC volume-query and series-search parsers: formats, quirks, no-data replies, errors with lines."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pyarrow as pa
import pytest

from dagster_project.errors import NotPublishedError, ParseError, SourceError
from dagster_project.sources.cboe import parse_delayed_quotes_json
from dagster_project.sources.occ import (
    SERIES_SCHEMA,
    VOLUME_SCHEMA,
    parse_series_search,
    parse_volume_query,
    series_to_contracts,
    volume_by_account_type,
    volume_query_params,
)
from dagster_project.synthetic.options import chain_json_bytes, generate_chain, series_search_bytes, volume_query_bytes

D = date(2024, 3, 14)
NOW = datetime(2024, 3, 14, 21, 0, tzinfo=timezone.utc)

VOLUME_CSV = (
    "\ufeffquantity,underlying,symbol,actype,porc,exchange,actdate\n"
    "1200,SPX,SPXW,C,C,CBOE,20240314\n"
    "300,SPX,SPXW,C,P,C2,20240314\n"
    "50,SPX,SPX,M,P,CBOE,20240314\n"
    "7,SPX,SPX,F,C,CBOE,03/14/2024\n"
)


def test_volume_query_parses_with_bom_and_date_styles():
    t = parse_volume_query(VOLUME_CSV.encode("utf-8"), "vq.csv", report_date=D)
    assert t.schema.equals(VOLUME_SCHEMA) and t.num_rows == 4
    assert t.column("quantity").type == pa.int64() and t.column("actdate").to_pylist() == [D] * 4
    assert t.column("account_type").to_pylist() == ["customer", "customer", "market_maker", "firm"]
    agg = {r["account_type"]: r for r in volume_by_account_type(t).to_pylist()}
    assert agg["customer"]["call_contracts"] == 1200 and agg["customer"]["put_contracts"] == 300
    assert agg["market_maker"]["put_contracts"] == 50 and agg["firm"]["total_contracts"] == 7


def test_volume_query_params_documented_names():
    p = volume_query_params(D, "spx")
    assert p == {"reportDate": "20240314", "format": "csv", "volumeQueryType": "O", "symbolType": "U",
                 "symbol": "SPX", "reportType": "D", "accountType": "ALL", "productKind": "ALL", "porc": "BOTH"}


@pytest.mark.parametrize("body, exc, fragment", [
    (b"<html><body>No data found for the selected criteria</body></html>", NotPublishedError, "No data found"),
    (b"", NotPublishedError, "empty reply"),
    (b"<p>Report date cannot be prior to 03/01/2022</p>", SourceError, "retention"),
    (b"x" * 200_000, ParseError, "expected header"),
])
def test_volume_query_non_csv_replies(body, exc, fragment):
    with pytest.raises(exc) as err:
        parse_volume_query(body, "vq", report_date=D)
    assert type(err.value) is exc and fragment in str(err.value)


@pytest.mark.parametrize("bad_line, fragment", [
    ("12,SPX,SPXW,X,C,CBOE,20240314", "actype"),
    ("12,SPX,SPXW,C,B,CBOE,20240314", "porc"),
    ("1.5,SPX,SPXW,C,C,CBOE,20240314", "quantity"),
    ("12,SPX,SPXW,C,C,CBOE,14-03-2024", "actdate"),
    ("12,SPX,SPXW,C,C,CBOE", "7 fields"),
])
def test_volume_query_bad_rows_name_the_line(bad_line, fragment):
    with pytest.raises(ParseError) as err:
        parse_volume_query((VOLUME_CSV + bad_line + "\n").encode(), "vq.csv", report_date=D)
    assert err.value.line == 6 and fragment in err.value.problem


SERIES = (
    "SPX   \t\t2024\t03\t15\t5000\t000\tC P\t12000\t34000\t250000\n"
    "SPXW  \t\t2024\t03\t15\t5002\t500\tC P\t10\t20\t250000\n"
    "2SPX  \t\t2024\t03\t15\t5000\t000\tC P\t1\t2\t250000\n"
    "SPXW  \t\t2024\t03\t18\t4990\t000\tP\t0\t77\t\n"
)


def test_series_search_layout():
    snap = parse_series_search(("Series Search Results\n\n" + SERIES).encode(), "ss", underlying="spx", captured_at=NOW)
    t = snap.table
    assert t.schema.equals(SERIES_SCHEMA)
    assert t.column("root").to_pylist() == ["SPX", "SPXW", "SPXW"]
    assert t.column("strike_thousandths").to_pylist() == [5_000_000, 5_002_500, 4_990_000]
    assert t.column("strike").to_pylist() == [5000.0, 5002.5, 4990.0]
    assert t.column("expiration").to_pylist() == [date(2024, 3, 15), date(2024, 3, 15), date(2024, 3, 18)]
    assert t.column("call_open_interest").to_pylist() == [12000, 10, 0]
    assert t.column("put_open_interest").to_pylist() == [34000, 20, 77]
    assert t.column("position_limit").to_pylist() == [250000, 250000, None]
    assert t.column("listed_sides").to_pylist() == ["C P", "C P", "P"]
    assert snap.excluded_roots == {"2SPX": 1} and snap.preamble_lines == 1
    assert set(t.column("captured_at").to_pylist()) == {NOW}


@pytest.mark.parametrize("line, fragment", [
    ("SPX   \t2024\t03\t15\t5000\t000\tC P\t1\t2\t3\t4", "not a series row"),  # one tab after the root
    ("SPX   \t\t2024\t03\t15\t5000\t000\t12\t1\t2\t3", "C/P flag"),
    ("SPX   \t\t2024\t03\t15\t5000\t000\tX\t1\t2\t3", "C/P flag"),
    ("SPX   \t\t2024\t02\t30\t5000\t000\tC P\t1\t2\t3", "invalid expiry"),
])
def test_series_search_bad_rows_after_data(line, fragment):
    with pytest.raises(ParseError) as err:
        parse_series_search((SERIES + line + "\n").encode(), "ss", underlying="SPX", captured_at=NOW)
    assert err.value.line == 5 and fragment in err.value.problem


def test_series_search_empty_is_not_published_and_needs_aware_time():
    with pytest.raises(NotPublishedError):
        parse_series_search(b"No series found\n", "ss", underlying="ZZZ", captured_at=NOW)
    with pytest.raises(ValueError):
        parse_series_search(SERIES.encode(), "ss", underlying="SPX", captured_at=datetime(2024, 3, 14))


def test_synthetic_occ_files_agree_with_the_cboe_chain():
    frame, env = generate_chain("SPY", D, seed=3)
    chain = parse_delayed_quotes_json(chain_json_bytes(frame, env), "SPY.json").to_pandas()
    snap = parse_series_search(series_search_bytes(frame), "ss", underlying="SPY", captured_at=NOW)
    assert snap.excluded_roots == {"2SPY": 1}
    occ = series_to_contracts(snap.table).to_pandas()
    keys = ["root", "expiration", "option_type", "strike_thousandths"]
    merged = chain.merge(occ, on=keys, suffixes=("_cboe", "_occ"), how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["open_interest_cboe"] == merged["open_interest_occ"]).all()
    vq = parse_volume_query(volume_query_bytes(frame, "SPY", D), "vq", report_date=D)
    by = volume_by_account_type(vq).to_pandas()
    assert set(by["account_type"]) == {"customer", "market_maker", "firm"}
    # flooring per exchange loses at most one contract per row
    assert 0 <= chain["volume"].sum() - by["total_contracts"].sum() < vq.num_rows
