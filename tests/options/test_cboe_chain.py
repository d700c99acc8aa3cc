"""Cboe parsers: real CSV chains (both date styles, 0DTE zeros), JSON feed, one normalized table, bad input."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from dagster_project.errors import ParseError
from dagster_project.sources.cboe import (
    CHAIN_SCHEMA,
    cboe_symbol,
    delayed_quotes_path,
    parse_delayed_quotes_json,
    parse_quote_date_line,
    parse_quote_table_csv,
)
from dagster_project.synthetic.options import chain_json_bytes, generate_chain

NY = ZoneInfo("America/New_York")


def _csv_rows(path):
    """Strike rows of a Cboe quote table read with the csv module only (independent of the parser)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        lines = [r for r in csv.reader(fh)]
    start = next(i for i, r in enumerate(lines) if r and r[0] == "Expiration Date")
    return [r for r in lines[start + 1:] if r and any(f.strip() for f in r)]


@pytest.mark.realdata
def test_real_spx_csv_matches_readme_totals(realdata_file):
    path = realdata_file("options", "spx_quotedata.csv")
    table = parse_quote_table_csv(path.read_bytes(), str(path))
    assert table.schema.equals(CHAIN_SCHEMA, check_metadata=True)
    df = table.to_pandas()
    # README §5: 10257 strike rows, SPX 3768 / SPXW 6489 rows, call OI 4,732,547, put OI 8,815,739, 40 expiries.
    assert table.num_rows == 2 * 10257
    assert (df["root"].value_counts() // 2).to_dict() == {"SPXW": 6489, "SPX": 3768}
    assert int(df.loc[df.option_type == "C", "open_interest"].sum()) == 4_732_547
    assert int(df.loc[df.option_type == "P", "open_interest"].sum()) == 8_815_739
    assert df["expiration"].nunique() == 40
    assert df["underlying"].unique().tolist() == ["SPX"]
    assert df["spot"].iloc[0] == pytest.approx(4500.5298)
    assert table.column("quote_time").to_pylist()[0] == datetime(2022, 2, 5, 20, 9, tzinfo=NY)
    assert table.schema.field("open_interest").type == pa.int64()
    assert table.schema.field("expiration").type == pa.date32()
    # independent: sum of the OI columns with the csv module
    rows = _csv_rows(path)
    assert len(rows) == 10257
    assert sum(int(r[10]) for r in rows) == 4_732_547 and sum(int(r[21]) for r in rows) == 8_815_739


@pytest.mark.realdata
def test_real_ndx_csv(realdata_file):
    path = realdata_file("options", "ndx_quotedata.csv")
    df = parse_quote_table_csv(path.read_bytes(), str(path)).to_pandas()
    assert len(df) == 2 * 9193
    assert set(df["root"]) == {"NDX", "NDXP"} and df["underlying"].unique().tolist() == ["NDX"]
    assert df["expiration"].nunique() == 34


@pytest.mark.realdata
@pytest.mark.parametrize("name, rows, n_exp", [("SPXOptionChainSample.csv", 78, 13),
                                               ("SPXOptionChainSample-old.csv", 84, 14)])
def test_real_csv_second_date_style_and_0dte_zeros(realdata_file, name, rows, n_exp):
    path = realdata_file("options", "SilverTurtle1_ShortSaleData", name)
    table = parse_quote_table_csv(path.read_bytes(), str(path))
    df = table.to_pandas()
    assert len(df) == 2 * rows and df["expiration"].nunique() == n_exp
    assert table.column("quote_time").to_pylist()[0] == datetime(2022, 12, 12, 18, 1, tzinfo=NY)
    zero_iv = df[df["iv"] == 0]
    independent = sum((r[7] == "0") + (r[18] == "0") for r in _csv_rows(path))
    assert len(zero_iv) == independent
    if "old" in name:
        # the 0DTE expiry is present and all its IV/greeks are 0, as Cboe prints them
        assert set(zero_iv["expiration"]) == {date(2022, 12, 12)}
        assert len(zero_iv) == 12 and (zero_iv["gamma"] == 0).all()
    else:
        assert independent == 0


@pytest.mark.parametrize("line, expected", [
    ("Date: February 5 2022, 8:09 PM EST", datetime(2022, 2, 5, 20, 9, tzinfo=NY)),
    ("Date: December 12, 2022 at 6:01 PM EST", datetime(2022, 12, 12, 18, 1, tzinfo=NY)),
    ("Date: July 1, 2024 at 9:45 AM EDT", datetime(2024, 7, 1, 9, 45, tzinfo=NY)),
])
def test_date_line_styles(line, expected):
    got = parse_quote_date_line(line)
    assert got == expected and got.utcoffset() == expected.utcoffset()


HEADER = ("Expiration Date,Calls,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest,Strike,"
          "Puts,Last Sale,Net,Bid,Ask,Volume,IV,Delta,Gamma,Open Interest")
ROW = ("Fri Dec 30 2022,SPXW221230C04000000,79.4,25.25,78.5,80,585,0.2345,0.497,0.0019,13379,4000.00,"
       "SPXW221230P04000000,86.67,-16.93,85.2,86.7,65,0.2337,-0.5034,0.0019,9238")


def _csv(*, title="Standard & Poors 500 Index,Last: 3990.5601,Change:  56.1801",
         date_line='"Date: December 12, 2022 at 6:01 PM EST",Bid: 1', header=HEADER, rows=(ROW,)):
    return ("\n" + "\n".join([title, date_line, header, *rows]) + "\n").encode()


def test_csv_minimal_parses():
    df = parse_quote_table_csv(_csv(), "mini.csv").to_pandas()
    assert df[["option_type", "open_interest", "strike_thousandths"]].values.tolist() == [
        ["C", 13379, 4000000], ["P", 9238, 4000000]]


@pytest.mark.parametrize("kwargs, line, fragment", [
    ({"title": "Standard & Poors 500 Index,Change: 1"}, 2, "Last:"),
    ({"date_line": '"Date: yesterday",Bid: 1'}, 3, "date line"),
    ({"header": HEADER.replace("Gamma", "Vega", 1)}, 4, "header"),
    ({"rows": (ROW.replace("SPXW221230C04000000", "SPXW221231C04000000"),)}, 5, "expiry differs"),
    ({"rows": (ROW.replace("SPXW221230C04000000", "SPXW221230C04005000"),)}, 5, "strike differs"),
    ({"rows": (ROW.replace("SPXW221230C04000000", "SPXW221230P04000000"),)}, 5, "call columns"),
    ({"rows": (ROW, ROW.replace(",9238", ",92.5"))}, 6, "Open Interest"),
    ({"rows": (ROW + ",extra",)}, 5, "22 fields"),
    ({"rows": ()}, None, "no strike rows"),
])
def test_csv_errors_name_file_and_line(kwargs, line, fragment):
    with pytest.raises(ParseError) as err:
        parse_quote_table_csv(_csv(**kwargs), "bad.csv")
    assert err.value.source == "bad.csv" and err.value.line == line and fragment in err.value.problem


def test_symbol_paths():
    assert cboe_symbol("spx") == "_SPX" and cboe_symbol("SPY") == "SPY"
    assert delayed_quotes_path("NDX") == "/api/global/delayed_quotes/options/_NDX.json"


def test_json_parses_synthetic_chain():
    frame, env = generate_chain("SPX", date(2024, 3, 14), seed=1)
    table = parse_delayed_quotes_json(chain_json_bytes(frame, env), "_SPX.json")
    assert table.schema.equals(CHAIN_SCHEMA, check_metadata=True)
    df = table.to_pandas()
    assert len(df) == len(frame)
    assert set(df["root"]) == {"SPX", "SPXW"} and df["underlying"].unique().tolist() == ["SPX"]
    assert int(df["open_interest"].sum()) == int(frame["open_interest"].sum())
    assert df["spot"].iloc[0] == env["spot"]
    # naive feed timestamp interpreted as UTC (parameter)
    assert table.column("quote_time").to_pylist()[0].isoformat() == env["timestamp"].replace(" ", "T") + "+00:00"
    et = parse_delayed_quotes_json(chain_json_bytes(frame, env), "x", timestamp_tz="America/New_York")
    assert (et.column("quote_time").to_pylist()[0] - table.column("quote_time").to_pylist()[0]).total_seconds() == 4 * 3600


@pytest.mark.realdata
def test_json_and_csv_give_the_same_table(realdata_file):
    """The real SPX CSV re-encoded as the JSON feed (with the csv module) parses to the same rows."""
    path = realdata_file("options", "spx_quotedata.csv")
    from_csv = parse_quote_table_csv(path.read_bytes(), str(path))
    options = []
    for r in _csv_rows(path):
        for off in (1, 12):
            options.append({"option": r[off], "last_trade_price": float(r[off + 1]), "bid": float(r[off + 3]),
                            "ask": float(r[off + 4]), "volume": float(r[off + 5]), "iv": float(r[off + 6]),
                            "delta": float(r[off + 7]), "gamma": float(r[off + 8]), "open_interest": float(r[off + 9])})
    doc = {"timestamp": "2022-02-06 01:09:00", "data": {"symbol": "_SPX", "current_price": 4500.5298, "options": options}}
    from_json = parse_delayed_quotes_json(json.dumps(doc).encode(), "re-encoded")
    drop = ["source_format"]
    assert from_json.drop_columns(drop).equals(from_csv.drop_columns(drop))


@pytest.mark.parametrize("mutate, fragment", [
    (lambda d: d["data"]["options"][3].__setitem__("option", "SPX24X"), "data.options[3]"),
    (lambda d: d["data"]["options"][2].__setitem__("open_interest", 12.5), "open_interest"),
    (lambda d: d["data"].__setitem__("current_price", None), "current_price"),
    (lambda d: d.__setitem__("timestamp", "03/14/2024"), "timestamp"),
    (lambda d: [o.pop("gamma") for o in d["data"]["options"]], "missing field 'gamma'"),
    (lambda d: d["data"].__setitem__("options", []), "empty"),
])
def test_json_errors(mutate, fragment):
    frame, env = generate_chain("QQQ", date(2024, 3, 14))
    doc = json.loads(chain_json_bytes(frame.head(10), env))
    mutate(doc)
    with pytest.raises(ParseError) as err:
        parse_delayed_quotes_json(json.dumps(doc).encode(), "QQQ.json")
    assert "QQQ.json" in str(err.value) and fragment in str(err.value)


def test_json_not_json():
    with pytest.raises(ParseError, match="not a Cboe delayed-quotes JSON"):
        parse_delayed_quotes_json(b"<html>Access Denied</html>", "x.json")
