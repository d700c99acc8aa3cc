"""Land option chains (Cboe), OCC volume and open-interest snapshots, and the GEX derived from each chain.

Lake datasets, each partitioned ``date=<trade date>/underlying=<ticker>``:

* ``options_chain``: the normalized per-contract chain (:data:`~dagster_project.sources.cboe.CHAIN_SCHEMA`
  plus ``trade_date``) with the Cboe JSON or CSV exactly as received. The trade date of a chain is the
  session its quote reflects (:func:`~dagster_project.publication_calendar.options_trade_date_of_quote`:
  a Saturday 2022-02-05 20:09 EST quote is the 2022-02-04 close).
* ``occ_volume``: OCC volume-query rows for the trade date (``actdate`` must equal it).
* ``occ_series``: OCC series-search open interest. OCC keeps no history, so every capture is archived
  with its ``captured_at``; replayed and synthetic captures are stamped with the trade date's OCC due
  time so that landing them again is idempotent.
* ``gex``: derived from one landed chain version with :func:`dagster_project.gex.compute_gex` under
  :data:`PIPELINE_GEX_CONFIG`. ``data.parquet`` is the per-contract GEX primitive (with the chain version
  and the conventions as columns, so a new chain version or new conventions make a new version);
  ``payload/`` holds ``levels.parquet`` (one row of headline numbers), ``profile.parquet`` (GEX over the
  spot grid) and the two PNG charts. Deterministic given the chain version and the config.

Pure code: no Dagster. Errors name the partition (date and underlying) and the problem.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dagster_project import gex
from dagster_project.errors import DealerflowError, ParseError
from dagster_project.lake import META_COLUMNS, Lake, LandResult
from dagster_project.publication_calendar import is_business_day, occ_due_at, options_trade_date_of_quote
from dagster_project.sources import cboe, occ
from dagster_project.sources.transport import Fetcher

CHAIN_DATASET = "options_chain"
OCC_VOLUME_DATASET = "occ_volume"
OCC_SERIES_DATASET = "occ_series"
GEX_DATASET = "gex"
DEFAULT_UNDERLYINGS = ("SPX", "NDX", "SPY", "QQQ")

#: The conventions the pipeline derives GEX with (stored beside every result): gex.py defaults.
PIPELINE_GEX_CONFIG = gex.GexConfig()

#: Checks whose failure keeps a partition's GEX out of the lake (and so out of the marts).
BLOCKING_CHECKS = ("gex_sign_convention", "options_oi_non_negative", "options_spot_inside_strike_range",
                   "gex_magnitude_sane", "options_chain_fresh")
#: Reported, never blocking: the feed's gamma uses its own T and rates.
WARNING_CHECKS = ("gex_gamma_source_vs_recomputed",)


def lake_partition(trade_date: date, underlying: str) -> dict[str, str]:
    return {"date": trade_date.isoformat(), "underlying": underlying.upper()}


def partition_label(trade_date: date, underlying: str) -> str:
    return f"{trade_date.isoformat()} {underlying.upper()}"


@dataclass(frozen=True)
class Landed:
    """One landed lake partition (any options dataset)."""

    dataset: str
    trade_date: date
    underlying: str
    rows: int
    version_id: str
    is_new: bool
    facts: dict

    @property
    def label(self) -> str:
        return partition_label(self.trade_date, self.underlying)


def _landed(dataset: str, trade_date: date, underlying: str, result: LandResult) -> Landed:
    v = result.version
    return Landed(dataset, trade_date, underlying.upper(), v.rows, v.version_id, result.is_new, v.manifest["facts"])


def _require_trade_date(trade_date: date, underlying: str) -> None:
    if not is_business_day(trade_date):
        raise DealerflowError(f"{partition_label(trade_date, underlying)}: {trade_date} is not a trading day (NYSE closed)")


# ------------------------------------------------------------------------------------------- chains

def land_chain(lake: Lake, table: pa.Table, trade_date: date, underlying: str, payload_name: str, payload: bytes,
               origin: str) -> Landed:
    """Land one parsed chain (and its original bytes) as the (trade date, underlying) partition."""
    label = partition_label(trade_date, underlying)
    _require_trade_date(trade_date, underlying)
    if table.num_rows == 0:
        raise DealerflowError(f"{label}: the chain has no contracts")
    found = set(table.column("underlying").to_pylist())
    if found != {underlying.upper()}:
        raise DealerflowError(f"{label}: the chain holds underlying {', '.join(sorted(found))}, not {underlying.upper()}")
    quote_time = table.column("quote_time")[0].as_py()
    quote_date = options_trade_date_of_quote(quote_time)
    with_date = table.add_column(0, "trade_date", pa.array([trade_date] * table.num_rows, pa.date32()))
    facts = {"origin": origin, "source_format": table.column("source_format")[0].as_py(),
             "quote_time": quote_time.isoformat(), "quote_trade_date": quote_date.isoformat(),
             "spot": table.column("spot")[0].as_py()}
    result = lake.land(CHAIN_DATASET, lake_partition(trade_date, underlying), with_date, {payload_name: payload}, facts)
    return _landed(CHAIN_DATASET, trade_date, underlying, result)


def fetch_and_land_chain(fetcher: Fetcher, lake: Lake, trade_date: date, underlying: str, origin: str,
                         require_quote_on_trade_date: bool = False) -> Landed:
    """Fetch the Cboe delayed-quotes JSON of ``underlying`` and land it under ``trade_date``.

    ``require_quote_on_trade_date`` (live feed: a snapshot without history) refuses a chain whose quote
    reflects another trade date instead of landing it; replayed files are landed and judged by the checks.
    """
    payload, table = cboe.load_delayed_quotes(fetcher, underlying)
    quoted = options_trade_date_of_quote(table.column("quote_time")[0].as_py())
    if require_quote_on_trade_date and quoted != trade_date:
        raise DealerflowError(f"{partition_label(trade_date, underlying)}: the chain's quote reflects {quoted}, "
                              f"not {trade_date}; not landed")
    name = Path(cboe.delayed_quotes_path(underlying)).name
    return land_chain(lake, table, trade_date, underlying, name, payload, origin)


def parse_chain_file(data: bytes, source: str, underlying: str | None = None) -> pa.Table:
    """Either Cboe format, told apart by the first non-blank byte (``{`` = delayed-quotes JSON, else CSV)."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return cboe.parse_delayed_quotes_json(data, source, underlying=underlying)
    return cboe.parse_quote_table_csv(data, source, underlying=underlying)


def import_chain_files(files: list[Path], lake: Lake, underlying: str | None = None,
                       trade_date: date | None = None) -> list[Landed]:
    """Land Cboe chain files (JSON or quote-table CSV). Bad files are quarantined, then raised.

    The underlying comes from the file (feed symbol or option root) unless given; the trade date is
    the session the file's quote time reflects unless given.
    """
    landed = []
    for file in files:
        data = Path(file).read_bytes()
        try:
            table = parse_chain_file(data, str(file), underlying)
        except ParseError as exc:
            where = lake.quarantine(CHAIN_DATASET, Path(file).name, data, str(exc))
            raise ParseError(exc.source, f"{exc.problem} (file quarantined at {where})", exc.line) from exc
        u = table.column("underlying")[0].as_py()
        d = trade_date or options_trade_date_of_quote(table.column("quote_time")[0].as_py())
        landed.append(land_chain(lake, table, d, u, Path(file).name, data, f"import {Path(file).name}"))
    return landed


def read_chain(lake: Lake, trade_date: date, underlying: str):
    """(version, chain table without lake columns) of the newest landed chain, or (None, None)."""
    version = lake.latest(CHAIN_DATASET, lake_partition(trade_date, underlying))
    if version is None:
        return None, None
    table = pq.read_table(version.data_path)
    return version, table.drop_columns([c for c in (*META_COLUMNS, "trade_date") if c in table.column_names])


# ---------------------------------------------------------------------------------------------- OCC

def fetch_and_land_occ_volume(fetcher: Fetcher, lake: Lake, trade_date: date, underlying: str, origin: str) -> Landed:
    """OCC volume-query for one trade date and underlying; every row must belong to that date and underlying."""
    label = partition_label(trade_date, underlying)
    _require_trade_date(trade_date, underlying)
    payload, table = occ.load_volume_query(fetcher, trade_date, underlying)
    source = fetcher.describe(occ.VOLUME_QUERY_PATH, occ.volume_query_params(trade_date, underlying))
    wrong = pc.or_(pc.not_equal(table["actdate"], pa.scalar(trade_date, pa.date32())),
                   pc.not_equal(table["underlying"], underlying.upper()))
    if table.num_rows and pc.any(wrong).as_py():
        i = pc.index(wrong, True).as_py()
        raise ParseError(source, f"{label}: row {i + 1} is {table['underlying'][i]} on {table['actdate'][i]}, "
                                 f"not the requested partition", i + 2)
    facts = {"origin": origin, "contracts": int(pc.sum(table["quantity"]).as_py() or 0), "source": source}
    result = lake.land(OCC_VOLUME_DATASET, lake_partition(trade_date, underlying), table, {"volume-query.csv": payload},
                       facts)
    return _landed(OCC_VOLUME_DATASET, trade_date, underlying, result)


def fetch_and_land_occ_series(fetcher: Fetcher, lake: Lake, trade_date: date, underlying: str, origin: str,
                              captured_at: datetime | None = None) -> Landed:
    """Archive one OCC series-search snapshot; ``captured_at`` defaults to now (live) — see module docstring."""
    _require_trade_date(trade_date, underlying)
    captured_at = captured_at or datetime.now(timezone.utc)
    payload, snapshot = occ.load_series_search(fetcher, underlying, captured_at)
    table = snapshot.table.add_column(0, "trade_date", pa.array([trade_date] * snapshot.table.num_rows, pa.date32()))
    facts = {"origin": origin, "captured_at": captured_at.astimezone(timezone.utc).isoformat(),
             "excluded_roots": snapshot.excluded_roots, "preamble_lines": snapshot.preamble_lines}
    result = lake.land(OCC_SERIES_DATASET, lake_partition(trade_date, underlying), table,
                       {"series-search.txt": payload}, facts)
    return _landed(OCC_SERIES_DATASET, trade_date, underlying, result)


def replay_captured_at(trade_date: date) -> datetime:
    """Capture time stamped on replayed / synthetic series-search snapshots: the trade date's OCC due time."""
    return occ_due_at(trade_date).astimezone(timezone.utc)


# ---------------------------------------------------------------------------------------------- GEX

@dataclass(frozen=True)
class DerivedGex:
    """GEX of one landed chain version, with the checks; not landed yet."""

    trade_date: date
    underlying: str
    chain_version_id: str
    chain: pa.Table
    result: gex.GexResult
    findings: list[gex.Finding]
    config: gex.GexConfig

    @property
    def label(self) -> str:
        return partition_label(self.trade_date, self.underlying)

    @property
    def blocking_failures(self) -> list[gex.Finding]:
        return [f for f in self.findings if not f.passed and f.check in BLOCKING_CHECKS]


def conventions(config: gex.GexConfig) -> dict:
    """The GEX conventions as plain JSON-able values (stored with every result)."""
    c = asdict(config)
    c["holidays"] = [d.isoformat() for d in config.holidays]
    c["t_floor_years"] = config.t_floor_years
    return c


def derive_gex(lake: Lake, trade_date: date, underlying: str, config: gex.GexConfig = PIPELINE_GEX_CONFIG
               ) -> DerivedGex | None:
    """Compute GEX and run the checks on the newest landed chain of a partition; None when none is landed."""
    version, chain = read_chain(lake, trade_date, underlying)
    if version is None:
        return None
    result = gex.compute_gex(chain, config)
    findings = gex.run_checks(chain, trade_date, config, result=result)
    return DerivedGex(trade_date, underlying.upper(), version.version_id, chain, result, findings, config)


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf, compression="zstd")
    return buf.getvalue()


def levels_row(d: DerivedGex) -> dict:
    """The per-day headline numbers of :data:`marts.gex_levels_daily`, named as there."""
    s, c = d.result.summary, d.config
    return {
        "as_of_date": d.trade_date, "underlying": d.underlying, "quote_time": s["quote_time"], "spot": s["spot"],
        "n_contracts": s["n_contracts"], "n_gamma_unavailable": s["n_gamma_unavailable"],
        "oi_gamma_unavailable_contracts": s["oi_gamma_unavailable_contracts"],
        "total_gex_usd_per_1pct": s["total_gex_usd_per_1pct"],
        "total_gex_usd_per_1pct_source_gamma": s["total_gex_source_usd_per_1pct"],
        "total_gex_shares_per_pt": s["total_gex_shares_per_pt"],
        "total_gex_shares_per_pt_source_gamma": s["total_gex_source_shares_per_pt"],
        "total_gex_usd_per_pt": s["total_gex_usd_per_pt"],
        "call_gex_usd_per_1pct": s["call_gex_usd_per_1pct"], "put_gex_usd_per_1pct": s["put_gex_usd_per_1pct"],
        "gex_ex_0dte_usd_per_1pct": s["gex_ex_0dte_usd_per_1pct"],
        "gex_ex_next_expiry_usd_per_1pct": s["gex_ex_next_expiry_usd_per_1pct"],
        "gex_0dte_share": s["share_0dte_of_gross_abs_gex"], "regime": s["regime"],
        "zero_gamma": s["zero_gamma_level"], "zero_gamma_crossings": s["zero_gamma_crossings"],
        "zero_gamma_all_levels": s["zero_gamma_all_levels"],
        "call_wall": s["call_wall_strike"], "call_wall_gex_usd_per_1pct": s["call_wall_gex_usd_per_1pct"],
        "put_wall": s["put_wall_strike"], "put_wall_gex_usd_per_1pct": s["put_wall_gex_usd_per_1pct"],
        "gamma_recomputed_vs_source_rel_diff": s["gamma_bs_vs_source_gross_rel_diff"],
        "time_convention": c.time_convention, "t_floor_years": c.t_floor_years, "rate": c.r, "dividend_yield": c.q,
        "call_dealer_sign": c.call_sign, "put_dealer_sign": c.put_sign, "iv_unavailable_policy": c.iv_unavailable,
        "profile_grid_low": c.grid_low, "profile_grid_high": c.grid_high, "profile_grid_levels": c.grid_levels,
        "chain_version_id": d.chain_version_id,
    }


LEVELS_SCHEMA_TYPES = {"zero_gamma": pa.float64(), "call_wall": pa.float64(), "put_wall": pa.float64(),
                       "call_wall_gex_usd_per_1pct": pa.float64(), "put_wall_gex_usd_per_1pct": pa.float64(),
                       "zero_gamma_all_levels": pa.list_(pa.float64())}


def _levels_bytes(d: DerivedGex) -> bytes:
    table = pa.Table.from_pylist([levels_row(d)])
    for name, type_ in LEVELS_SCHEMA_TYPES.items():  # null-able numbers stay numbers when absent
        table = table.set_column(table.schema.get_field_index(name), name, table[name].cast(type_))
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def contracts_table(d: DerivedGex) -> pa.Table:
    """The per-contract GEX primitive as landed: NaN (not computable) becomes null."""
    frame = d.result.contracts.copy()
    frame.insert(0, "as_of_date", d.trade_date)
    frame["chain_version_id"] = d.chain_version_id
    frame["gex_conventions"] = json.dumps(conventions(d.config), sort_keys=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return table.set_column(0, "as_of_date", table["as_of_date"].cast(pa.date32()))


def render_charts(d: DerivedGex) -> dict[str, bytes]:
    """GEX profile and GEX-by-strike PNGs of one partition."""
    from dagster_project import charts

    s, prof, by_strike = d.result.summary, d.result.profile, d.result.by_strike
    title = f"{d.underlying} {d.trade_date}"
    return {
        "gex_profile.png": charts.render_gex_profile_png(
            prof["spot_level"], prof["gex_usd_per_1pct"], spot=s["spot"], zero_gamma=s["zero_gamma_level"],
            call_wall=s["call_wall_strike"], put_wall=s["put_wall_strike"],
            extra_curves={"ex 0DTE": prof["gex_ex_0dte_usd_per_1pct"].to_numpy()},
            title=f"GEX profile, {title}"),
        "gex_by_strike.png": charts.render_gex_by_strike_png(
            by_strike["strike"], by_strike["call_gex_usd_per_1pct"], by_strike["put_gex_usd_per_1pct"], spot=s["spot"],
            call_wall=s["call_wall_strike"], put_wall=s["put_wall_strike"], title=f"GEX by strike, {title}"),
    }


def land_gex(lake: Lake, d: DerivedGex) -> Landed:
    """Land a derived GEX result; refuses when a blocking check failed (the error names the partition)."""
    if d.blocking_failures:
        raise DealerflowError(f"{d.label}: GEX not landed, blocking check(s) failed: "
                              + "; ".join(f"{f.check}: {f.message}" for f in d.blocking_failures))
    profile = d.result.profile.copy()
    profile.insert(0, "underlying", d.underlying)
    profile.insert(0, "as_of_date", d.trade_date)
    payloads = {"levels.parquet": _levels_bytes(d), "profile.parquet": _parquet_bytes(profile), **render_charts(d)}
    s = d.result.summary
    facts = {"chain_version_id": d.chain_version_id, "conventions": conventions(d.config),
             "total_gex_usd_per_1pct": s["total_gex_usd_per_1pct"], "zero_gamma": s["zero_gamma_level"],
             "checks": {f.check: {"passed": f.passed, "message": f.message} for f in d.findings}}
    result = lake.land(GEX_DATASET, lake_partition(d.trade_date, d.underlying), contracts_table(d), payloads, facts)
    return _landed(GEX_DATASET, d.trade_date, d.underlying, result)


def derive_and_land_gex(lake: Lake, trade_date: date, underlying: str,
                        config: gex.GexConfig = PIPELINE_GEX_CONFIG) -> Landed:
    """Derive GEX from the landed chain and land it; raises naming the partition when it cannot."""
    d = derive_gex(lake, trade_date, underlying, config)
    if d is None:
        raise DealerflowError(f"{partition_label(trade_date, underlying)}: no option chain landed")
    return land_gex(lake, d)
