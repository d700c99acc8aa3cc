"""Options layer: Cboe chains, OCC volume and open interest, and the GEX derived from each chain.

All four assets are partitioned by trade date x underlying and backfill as one run. Non-trading dates
are skipped with a reason; so are partitions not yet due (publication_calendar: chains from 16:15 ET,
OCC from 20:00 ET) and, in live mode, dates the feeds cannot serve any more (the Cboe chain and the
OCC series-search are snapshots without history: import recorded files instead).
"""


from datetime import date, datetime

import dagster as dg
import pandas as pd
import pyarrow.parquet as pq

from dagster_project.errors import DealerflowError, NotPublishedError
from dagster_project.landing import options as lo
from dagster_project.partitions import date_underlyings_of, options_partitions
from dagster_project.publication_calendar import (
    EASTERN,
    is_business_day,
    occ_due_at,
    options_chain_due_at,
    options_latest_due,
)
from dagster_project.resources import HomeResource, OptionsSourceResource

CHAIN_KEY = dg.AssetKey(["raw", "options_chain"])
OCC_VOLUME_KEY = dg.AssetKey(["raw", "occ_volume"])
OCC_SERIES_KEY = dg.AssetKey(["raw", "occ_series"])
GEX_KEY = dg.AssetKey(["derived", "gex"])
GROUP = "options"
#: Charts embedded in one materialization's metadata (the newest trade date of the run, at most this many).
MAX_EMBEDDED_CHARTS = 4


def _fetch_check(key: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec("fetch_succeeded", asset=key, blocking=False,
                             description="Every requested, due trading-day partition was fetched and landed; failures "
                                         "name the date and underlying.")


def _plan(context, due_at, now: datetime) -> tuple[list[tuple[date, str]], list[str]]:
    """Partitions of the run to fetch, and the reasons the others are skipped."""
    todo, skipped = [], []
    for day, underlying in date_underlyings_of(context.partition_keys):
        label = lo.partition_label(day, underlying)
        if not is_business_day(day):
            skipped.append(f"{label}: not a trading day (NYSE closed)")
        elif due_at(day) > now:
            skipped.append(f"{label}: not due until {due_at(day):%Y-%m-%d %H:%M %Z}")
        else:
            todo.append((day, underlying))
    return todo, skipped


def _live_snapshot_skip(day: date, underlying: str, now: datetime, due_at, what: str) -> str | None:
    """Live snapshot feeds serve only the newest due trade date."""
    newest = options_latest_due(now, due_at)
    if day != newest:
        return (f"{lo.partition_label(day, underlying)}: the live {what} is a snapshot of {newest} only "
                f"(no history); import recorded files for earlier dates")
    return None


def _land_each(context, todo, land_one) -> tuple[list[lo.Landed], list[str], list[str]]:
    landed, skipped, failed = [], [], []
    for day, underlying in todo:
        try:
            result = land_one(day, underlying)
        except NotPublishedError as exc:
            skipped.append(f"{lo.partition_label(day, underlying)}: not published ({exc})")
            continue
        except DealerflowError as exc:
            message = str(exc) if lo.partition_label(day, underlying) in str(exc) else \
                f"{lo.partition_label(day, underlying)}: {exc}"
            context.log.error(message)
            failed.append(message)
            continue
        if isinstance(result, str):
            skipped.append(result)
        else:
            landed.append(result)
    return landed, skipped, failed


def _raw_result(key: dg.AssetKey, context, source: str, landed, skipped, failed, todo):
    for reason in skipped:
        context.log.info(f"skipped {reason}")
    if failed and len(failed) == len(todo):
        raise dg.Failure(description="; ".join(failed), metadata={"failed": failed})
    return dg.MaterializeResult(asset_key=key, metadata={
        "partitions_landed": len(landed), "new_versions": sum(p.is_new for p in landed),
        "rows": sum(p.rows for p in landed), "skipped": skipped, "failed": failed, "source": source,
    })


# ----------------------------------------------------------------------------------------- chains

CHAIN_CHECKS = [
    _fetch_check(CHAIN_KEY),
    dg.AssetCheckSpec("raw_expectations", asset=CHAIN_KEY, blocking=True,
                      description="Great Expectations suite expectations/options_chain_raw.json on every new chain "
                                  "version (columns, keys, C/P, positive strikes and spot, non-negative IV and volume)."),
]


@dg.asset(
    key=CHAIN_KEY, partitions_def=options_partitions, backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=CHAIN_CHECKS, group_name=GROUP, kinds={"python", "parquet"}, tags={"dealerflow/source": "cboe"},
    description="Cboe delayed-quotes option chain per trade date x underlying (normalized per contract, original JSON "
                "or CSV kept), landed immutably. The trade date is the session the quote time reflects.",
)
def options_chain_raw(context: dg.AssetExecutionContext, home: HomeResource, options: OptionsSourceResource):
    now = datetime.now(EASTERN)
    todo, skipped = _plan(context, options_chain_due_at, now)

    def land_one(day, underlying):
        if options.is_live:
            reason = _live_snapshot_skip(day, underlying, now, options_chain_due_at, "Cboe delayed-quotes chain")
            if reason:
                return reason
        fetcher = options.cboe_fetcher(home.paths, day, underlying)
        return lo.fetch_and_land_chain(fetcher, home.lake, day, underlying, options.mode,
                                       require_quote_on_trade_date=options.is_live)

    landed, more_skipped, failed = _land_each(context, todo, land_one)
    skipped += more_skipped
    yield _raw_result(CHAIN_KEY, context, options.mode, landed, skipped, failed, todo)
    yield dg.AssetCheckResult(check_name="fetch_succeeded", asset_key=CHAIN_KEY, passed=not failed,
                              metadata={"failed": failed})
    yield _chain_expectations_check(home, landed)


def _chain_expectations_check(home: HomeResource, landed: list[lo.Landed]) -> dg.AssetCheckResult:
    from dagster_project.expectations import validate

    new = [p for p in landed if p.is_new]
    failures = []
    if new:
        frames = []
        for p in new:
            version = home.lake.latest(lo.CHAIN_DATASET, lo.lake_partition(p.trade_date, p.underlying))
            frames.append(pq.read_table(version.data_path).drop_columns(list(lo.META_COLUMNS)).to_pandas())
        result = validate("options_chain_raw", pd.concat(frames, ignore_index=True))
        if not result.success:
            failures.append(f"{', '.join(p.label for p in new)}: {result.summary()}")
    return dg.AssetCheckResult(check_name="raw_expectations", asset_key=CHAIN_KEY, passed=not failures,
                               metadata={"validated_versions": len(new), "failures": failures})


# -------------------------------------------------------------------------------------------- OCC

@dg.asset(
    key=OCC_VOLUME_KEY, partitions_def=options_partitions, backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[_fetch_check(OCC_VOLUME_KEY)], group_name=GROUP, kinds={"python", "parquet"},
    tags={"dealerflow/source": "occ"},
    description="OCC volume-query per trade date x underlying: cleared contracts by option root, account type "
                "(customer, market maker, firm), call/put and exchange. Due from 20:00 ET on the trade date.",
)
def occ_volume_raw(context: dg.AssetExecutionContext, home: HomeResource, options: OptionsSourceResource):
    now = datetime.now(EASTERN)
    todo, skipped = _plan(context, occ_due_at, now)

    def land_one(day, underlying):
        fetcher = options.occ_fetcher(home.paths, day, underlying)
        return lo.fetch_and_land_occ_volume(fetcher, home.lake, day, underlying, options.mode)

    landed, more_skipped, failed = _land_each(context, todo, land_one)
    yield _raw_result(OCC_VOLUME_KEY, context, options.mode, landed, skipped + more_skipped, failed, todo)
    yield dg.AssetCheckResult(check_name="fetch_succeeded", asset_key=OCC_VOLUME_KEY, passed=not failed,
                              metadata={"failed": failed})


@dg.asset(
    key=OCC_SERIES_KEY, partitions_def=options_partitions, backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[_fetch_check(OCC_SERIES_KEY)], group_name=GROUP, kinds={"python", "parquet"},
    tags={"dealerflow/source": "occ"},
    description="OCC series-search open interest per series, archived daily with its capture time: OCC serves only "
                "the current snapshot, so a day not captured is lost. Adjusted (digit-prefixed) roots are counted, "
                "not landed.",
)
def occ_series_raw(context: dg.AssetExecutionContext, home: HomeResource, options: OptionsSourceResource):
    now = datetime.now(EASTERN)
    todo, skipped = _plan(context, occ_due_at, now)

    def land_one(day, underlying):
        if options.is_live:
            reason = _live_snapshot_skip(day, underlying, now, occ_due_at, "OCC series-search")
            if reason:
                return reason
        fetcher = options.occ_fetcher(home.paths, day, underlying)
        captured_at = None if options.is_live else lo.replay_captured_at(day)
        return lo.fetch_and_land_occ_series(fetcher, home.lake, day, underlying, options.mode, captured_at)

    landed, more_skipped, failed = _land_each(context, todo, land_one)
    yield _raw_result(OCC_SERIES_KEY, context, options.mode, landed, skipped + more_skipped, failed, todo)
    yield dg.AssetCheckResult(check_name="fetch_succeeded", asset_key=OCC_SERIES_KEY, passed=not failed,
                              metadata={"failed": failed})


# -------------------------------------------------------------------------------------------- GEX

GEX_CHECKS = [
    dg.AssetCheckSpec("gex_sign_convention", asset=GEX_KEY, blocking=True,
                      description="Flipping the put dealer sign negates exactly the put leg (total' = total - 2 x puts); "
                                  "whether the regime flips is reported."),
    dg.AssetCheckSpec("options_oi_non_negative", asset=GEX_KEY, blocking=True,
                      description="No contract has negative open interest."),
    dg.AssetCheckSpec("options_spot_inside_strike_range", asset=GEX_KEY, blocking=True,
                      description="Spot lies inside the chain's strike range."),
    dg.AssetCheckSpec("gex_magnitude_sane", asset=GEX_KEY, blocking=True,
                      description="|SPX total GEX| below $60bn per 1% move (other underlyings: not applicable)."),
    dg.AssetCheckSpec("options_chain_fresh", asset=GEX_KEY, blocking=True,
                      description="The chain's quote time is on the partition's trade date or at most one business day "
                                  "after it (New York dates)."),
    dg.AssetCheckSpec("gex_gamma_source_vs_recomputed", asset=GEX_KEY, blocking=False,
                      description="Gross |GEX| from Black-Scholes gamma vs the feed's published gamma within 5% "
                                  "(a warning: the feed uses its own T and rates)."),
]


@dg.asset(
    key=GEX_KEY, deps=[CHAIN_KEY], partitions_def=options_partitions, backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=GEX_CHECKS, group_name=GROUP, kinds={"python", "parquet"},
    description="Gamma exposure derived from the newest landed chain of each partition (gex.compute_gex, conventions "
                "stored with the result): per-contract primitive, levels, profile and charts in the lake dataset "
                "`gex`. A partition failing a blocking check is not landed.",
)
def gex_derived(context: dg.AssetExecutionContext, home: HomeResource):
    derived: list[lo.DerivedGex] = []
    landed: list[lo.Landed] = []
    skipped, blocked = [], []
    for day, underlying in date_underlyings_of(context.partition_keys):
        label = lo.partition_label(day, underlying)
        if not is_business_day(day):
            skipped.append(f"{label}: not a trading day (NYSE closed)")
            continue
        d = lo.derive_gex(home.lake, day, underlying)
        if d is None:
            skipped.append(f"{label}: no option chain landed")
            continue
        derived.append(d)
        if d.blocking_failures:
            blocked.append(label)
            context.log.error(f"{label}: GEX not landed: " + "; ".join(f.message for f in d.blocking_failures))
            continue
        landed.append(lo.land_gex(home.lake, d))
    for reason in skipped:
        context.log.info(f"skipped {reason}")

    yield dg.MaterializeResult(asset_key=GEX_KEY, metadata={
        "partitions_landed": len(landed), "new_versions": sum(p.is_new for p in landed), "skipped": skipped,
        "blocked_by_checks": blocked, "conventions": dg.MetadataValue.json(lo.conventions(lo.PIPELINE_GEX_CONFIG)),
        "levels": dg.MetadataValue.md(_levels_markdown(derived)), **_chart_metadata(home, derived, landed),
    })
    for spec in GEX_CHECKS:
        yield _gex_check(spec, derived)


def _gex_check(spec: dg.AssetCheckSpec, derived: list[lo.DerivedGex]) -> dg.AssetCheckResult:
    """One check over every partition of the run; failures name the date and underlying."""
    findings = [(d.label, f) for d in derived for f in d.findings if f.check == spec.name]
    failures = [f"{label}: {f.message}" for label, f in findings if not f.passed]
    severity = dg.AssetCheckSeverity.ERROR if spec.name in lo.BLOCKING_CHECKS else dg.AssetCheckSeverity.WARN
    return dg.AssetCheckResult(
        check_name=spec.name, asset_key=GEX_KEY, passed=not failures, severity=severity,
        description=failures[0] if failures else None,
        metadata={"partitions_checked": len(findings), "failures": failures,
                  "results": dg.MetadataValue.json({label: {"passed": f.passed, "message": f.message}
                                                    for label, f in findings[:50]}),
                  "not_applicable": [d.label for d in derived if not any(f.check == spec.name for f in d.findings)]},
    )


def _levels_markdown(derived: list[lo.DerivedGex]) -> str:
    rows = ["| date | underlying | spot | total GEX $bn/1% | source-gamma $bn/1% | zero gamma | call wall | put wall |",
            "|---|---|---:|---:|---:|---:|---:|---:|"]
    for d in derived[:60]:
        s = d.result.summary
        zg = f"{s['zero_gamma_level']:,.1f}" if s["zero_gamma_level"] is not None else "none"
        rows.append(f"| {d.trade_date} | {d.underlying} | {s['spot']:,.2f} | {s['total_gex_usd_per_1pct'] / 1e9:,.2f} | "
                    f"{s['total_gex_source_usd_per_1pct'] / 1e9:,.2f} | {zg} | {s['call_wall_strike']:,.0f} | "
                    f"{s['put_wall_strike']:,.0f} |")
    return "\n".join(rows)


def _chart_metadata(home: HomeResource, derived: list[lo.DerivedGex], landed: list[lo.Landed]) -> dict:
    """The newest trade date's charts, inline (base64 PNG in markdown renders in the Dagster UI) and as lake paths."""
    import base64

    if not landed:
        return {}
    newest = max(p.trade_date for p in landed)
    metadata = {}
    for p in [p for p in landed if p.trade_date == newest][:MAX_EMBEDDED_CHARTS]:
        version = home.lake.latest(lo.GEX_DATASET, lo.lake_partition(p.trade_date, p.underlying))
        images = []
        for name in ("gex_profile.png", "gex_by_strike.png"):
            png = version.path / "payload" / name
            images.append(f"![{p.underlying} {name}](data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()})")
            metadata[f"{p.underlying}_{name.removesuffix('.png')}_path"] = dg.MetadataValue.path(str(png))
        metadata[f"{p.underlying}_charts"] = dg.MetadataValue.md(f"**{p.label}**\n\n" + "\n\n".join(images))
    return metadata
