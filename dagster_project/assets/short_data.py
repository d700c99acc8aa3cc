"""Short and settlement data as Dagster assets: Reg SHO daily volume, FINRA short interest, SEC fails-to-deliver.

Three raw lake assets, each with its own partitioning (trade date, settlement date, half-month), and one dbt
multi-asset for the ``short_data`` tag. The dbt marts span every partition of all three datasets and are cheap
to rebuild in full, so they are unpartitioned and rebuilt after any raw partition lands.

Each raw asset skips partitions the publication calendar says are not due yet (with the reason), collects
per-partition failures instead of stopping at the first, and yields its checks from what actually landed
(read back from the lake): trailer reconcile, short volume <= total volume, no duplicate rows, FTD total
quantity, and a published-before-due flag (a warning: FINRA or the SEC publishing early is not an error, but
a file observed before its calendar date is worth a look).
"""


from datetime import date, datetime, timezone

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dagster_project.errors import DealerflowError, NotPublishedError
from dagster_project.landing.short_data import (
    FTD_DATASET,
    REGSHO_DATASET,
    SHORT_INTEREST_DATASET,
    LandedVersion,
    fetch_and_land_ftd,
    fetch_and_land_regsho_day,
    fetch_and_land_short_interest,
    ftd_links_by_period,
)
from dagster_project.lake import META_COLUMNS, Lake
from dagster_project.partitions import dates_of, ftd_partitions, regsho_partitions, short_interest_partitions
from dagster_project.publication_calendar import (
    ftd_expected_publication,
    ftd_period_bounds,
    is_business_day,
    parse_ftd_period_key,
    regsho_due_at,
    short_interest_publication_date,
)
from dagster_project.resources import HomeResource, ShortDataSourceResource
from dagster_project.sources.regsho import CNMS_COMPONENTS

REGSHO_KEY = dg.AssetKey(["raw", "regsho_daily"])
SHORT_INTEREST_KEY = dg.AssetKey(["raw", "short_interest"])
FTD_KEY = dg.AssetKey(["raw", "sec_ftd"])
#: Dataset names used by the CLI and runner -> raw asset keys.
RAW_KEYS = {"regsho": REGSHO_KEY, "short-interest": SHORT_INTEREST_KEY, "ftd": FTD_KEY}


def _spec(name: str, key: dg.AssetKey, description: str, blocking: bool = True) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(name, asset=key, blocking=blocking, description=description)


def _common_checks(key: dg.AssetKey, suite: str) -> list[dg.AssetCheckSpec]:
    return [
        _spec("fetch_succeeded", key, "Every requested, due partition was fetched and landed; failures name the partition.",
              blocking=False),
        _spec("no_duplicate_rows", key, "No duplicate key rows in the landed versions."),
        _spec("published_before_due", key, "Flags (warning) data observed before its publication-calendar due date.",
              blocking=False),
        _spec("raw_expectations", key, f"Great Expectations suite expectations/{suite}.json on the new versions' rows."),
    ]


REGSHO_CHECKS = _common_checks(REGSHO_KEY, "short_regsho_raw") + [
    _spec("trailer_reconciles", REGSHO_KEY, "Each file's trailer record count equals the rows landed."),
    _spec("short_not_above_total", REGSHO_KEY, "ShortExemptVolume <= ShortVolume <= TotalVolume on every row."),
    _spec("cnms_matches_facilities", REGSHO_KEY, "Where CNMS and all four component files of a day landed, CNMS equals "
                                                 "the per-symbol sum of FNSQ, FNQC, FNYX and FNRA.", blocking=False),
]
SHORT_INTEREST_CHECKS = _common_checks(SHORT_INTEREST_KEY, "short_interest_raw")
FTD_CHECKS = _common_checks(FTD_KEY, "short_ftd_raw") + [
    _spec("trailer_reconciles", FTD_KEY, "Trailer record count and total quantity of shares equal the landed rows "
                                         "(files imported without trailers are listed, not reconciled)."),
]


# ------------------------------------------------------------------------------------------ helpers

def _read(lake: Lake, landed: LandedVersion) -> pa.Table:
    version = next(v for v in lake.versions(landed.dataset, landed.partition) if v.version_id == landed.version_id)
    return pq.read_table(version.data_path).drop_columns(list(META_COLUMNS))


def _label(landed: LandedVersion) -> str:
    return " ".join(f"{k}={v}" for k, v in landed.partition.items())


def _duplicates(table: pa.Table, keys: list[str]) -> int:
    if table.num_rows == 0:
        return 0
    return table.num_rows - table.group_by(keys).aggregate([]).num_rows


def _result(key: dg.AssetKey, name: str, problems: list[str], severity=dg.AssetCheckSeverity.ERROR, **metadata):
    return dg.AssetCheckResult(check_name=name, asset_key=key, passed=not problems, severity=severity,
                               metadata={"problems": problems[:50], "problem_count": len(problems), **metadata})


def _expectations(key: dg.AssetKey, suite: str, tables: list[pa.Table]) -> dg.AssetCheckResult:
    from dagster_project.expectations import validate

    tables = [t for t in tables if t.num_rows]
    if not tables:
        return _result(key, "raw_expectations", [], validated_rows=0)
    result = validate(suite, pa.concat_tables(tables).to_pandas())
    return _result(key, "raw_expectations", [] if result.success else [result.summary()],
                   validated_rows=sum(t.num_rows for t in tables))


def _finish(context, key: dg.AssetKey, landed: list[LandedVersion], skipped: list[str], failed: list[str],
            requested: int, mode: str):
    """Log skips, fail the step when every due partition failed, else report what landed."""
    for reason in skipped:
        context.log.info(f"skipped {reason}")
    if failed and len(failed) == requested - len(skipped):
        raise dg.Failure(description="; ".join(failed), metadata={"failed": failed})
    return dg.MaterializeResult(asset_key=key, metadata={
        "partitions_landed": len(landed), "new_versions": sum(v.is_new for v in landed),
        "rows": sum(v.rows for v in landed), "skipped_unpublished": skipped, "failed": failed, "source": mode})


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


# ------------------------------------------------------------------------------------------ Reg SHO

@dg.asset(
    key=REGSHO_KEY,
    partitions_def=regsho_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=REGSHO_CHECKS,
    group_name="short_data",
    kinds={"python", "parquet"},
    description="FINRA Reg SHO daily short-sale volume: all six facility files (CNMS, FNSQ, FNQC, FNYX, FNRA, FORF) of "
                "each trade date landed immutably in the lake; empty days land as empty versions.",
    tags={"dealerflow/source": "finra"},
)
def regsho_daily_raw(context: dg.AssetExecutionContext, home: HomeResource, short_data: ShortDataSourceResource):
    lake, now = home.lake, _utc_now()
    days = dates_of(context.partition_keys)
    due_days = [d for d in days if is_business_day(d) and regsho_due_at(d) <= now]
    skipped = [f"{d}: not a business day (NYSE holiday)" for d in days if not is_business_day(d)]
    skipped += [f"{d}: not published until {regsho_due_at(d).isoformat()}" for d in days
                if is_business_day(d) and regsho_due_at(d) > now]
    if due_days:
        short_data.prepare(home.paths, REGSHO_DATASET, due_days[0], due_days[-1])
    fetcher = short_data.finra_cdn(home.paths)
    landed: list[LandedVersion] = []
    failed: list[str] = []
    for day in due_days:
        try:
            result = fetch_and_land_regsho_day(fetcher, lake, day, origin=short_data.mode)
        except NotPublishedError as exc:
            failed.append(f"{day}: {exc}")
            continue
        except DealerflowError as exc:
            context.log.error(str(exc))
            failed.append(f"{day}: {exc}")
            continue
        landed.extend(result.landed)
        if result.missing:
            failed.append(f"{day}: facility file(s) {', '.join(result.missing)} not published")
    yield _finish(context, REGSHO_KEY, landed, skipped, failed, len(days), short_data.mode)
    yield _result(REGSHO_KEY, "fetch_succeeded", failed)

    tables = {(v.partition["date"], v.partition["facility"]): _read(lake, v) for v in landed}
    trailer = [f"{_label(v)}: trailer {v.facts.get('trailer_count')} vs {v.rows} rows" for v in landed
               if v.facts.get("trailer_count") is not None and v.facts["trailer_count"] != v.rows]
    yield _result(REGSHO_KEY, "trailer_reconciles", trailer, files=len(landed))
    above = []
    for (day, facility), t in tables.items():
        bad = pc.or_(pc.greater(t["short_exempt_volume"], t["short_volume"]), pc.greater(t["short_volume"], t["total_volume"]))
        if t.num_rows and pc.any(bad).as_py():
            above.append(f"{day} {facility}: {pc.sum(bad).as_py()} row(s), e.g. {t.filter(bad)['symbol'][0]}")
    yield _result(REGSHO_KEY, "short_not_above_total", above)
    dupes = [f"{day} {facility}: {n} duplicate symbol row(s)" for (day, facility), t in tables.items()
             if (n := _duplicates(t, ["trade_date", "symbol", "facility"]))]
    yield _result(REGSHO_KEY, "no_duplicate_rows", dupes)
    yield _result(REGSHO_KEY, "published_before_due",
                  [f"{_label(v)}: fetched {v.facts.get('fetched_at')} before due {v.facts.get('due_at')}"
                   for v in landed if v.facts.get("published_before_due")], severity=dg.AssetCheckSeverity.WARN)
    yield _result(REGSHO_KEY, "cnms_matches_facilities", _cnms_mismatches(tables), severity=dg.AssetCheckSeverity.WARN)
    yield _expectations(REGSHO_KEY, "short_regsho_raw", [tables[(v.partition["date"], v.partition["facility"])]
                                                         for v in landed if v.is_new])


def _cnms_mismatches(tables: dict[tuple[str, str], pa.Table]) -> list[str]:
    from dagster_project.errors import ReconciliationError
    from dagster_project.sources.regsho import check_cnms_consistency

    problems = []
    for day in sorted({d for d, _ in tables}):
        if all((day, f) in tables for f in ("CNMS", *CNMS_COMPONENTS)):
            try:
                check_cnms_consistency(tables[(day, "CNMS")], {f: tables[(day, f)] for f in CNMS_COMPONENTS}, day)
            except ReconciliationError as exc:
                problems.append(str(exc))
    return problems


# ------------------------------------------------------------------------------------------ short interest

@dg.asset(
    key=SHORT_INTEREST_KEY,
    partitions_def=short_interest_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=SHORT_INTEREST_CHECKS,
    group_name="short_data",
    kinds={"python", "parquet"},
    description="FINRA equity short interest per settlement date, from the CDN file or, when it is missing, the Query "
                "API (consolidatedShortInterest); the version records which. Due on the 7th business day after settlement.",
    tags={"dealerflow/source": "finra"},
)
def short_interest_raw(context: dg.AssetExecutionContext, home: HomeResource, short_data: ShortDataSourceResource):
    lake, today = home.lake, date.today()
    settlements = dates_of(context.partition_keys)
    due = [s for s in settlements if short_interest_publication_date(s) <= today]
    skipped = [f"{s}: not published until {short_interest_publication_date(s)}" for s in settlements if s not in due]
    if due:
        short_data.prepare(home.paths, SHORT_INTEREST_DATASET, due[0], due[-1])
    cdn, api = short_data.finra_cdn(home.paths), short_data.finra_api(home.paths)
    landed, failed = [], []
    for settlement in due:
        try:
            landed.append(fetch_and_land_short_interest(lake, settlement, short_data.mode, cdn=cdn, api=api))
        except DealerflowError as exc:
            context.log.error(str(exc))
            failed.append(f"{settlement}: {exc}")
    yield _finish(context, SHORT_INTEREST_KEY, landed, skipped, failed, len(settlements), short_data.mode)
    yield _result(SHORT_INTEREST_KEY, "fetch_succeeded", failed,
                  sources={_label(v): v.facts.get("source_format") for v in landed})
    tables = [(v, _read(lake, v)) for v in landed]
    yield _result(SHORT_INTEREST_KEY, "no_duplicate_rows",
                  [f"{_label(v)}: {n} duplicate symbol row(s)" for v, t in tables
                   if (n := _duplicates(t, ["settlement_date", "symbol"]))])
    yield _result(SHORT_INTEREST_KEY, "published_before_due",
                  [f"{_label(v)}: fetched {v.facts.get('fetched_at')} before due {v.facts.get('due_date')}"
                   for v in landed if v.facts.get("published_before_due")], severity=dg.AssetCheckSeverity.WARN)
    yield _expectations(SHORT_INTEREST_KEY, "short_interest_raw", [t for v, t in tables if v.is_new])


# ------------------------------------------------------------------------------------------ SEC fails-to-deliver

@dg.asset(
    key=FTD_KEY,
    partitions_def=ftd_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=FTD_CHECKS,
    group_name="short_data",
    kinds={"python", "parquet"},
    description="SEC fails-to-deliver half-month files (cnsfails YYYYMM a|b), found through the SEC index page "
                "(historic URLs are irregular) and landed with both trailer lines reconciled.",
    tags={"dealerflow/source": "sec"},
)
def sec_ftd_raw(context: dg.AssetExecutionContext, home: HomeResource, short_data: ShortDataSourceResource):
    lake, today = home.lake, date.today()
    periods = sorted(context.partition_keys)
    due = [p for p in periods if ftd_expected_publication(*parse_ftd_period_key(p)) <= today]
    skipped = [f"{p}: not expected until {ftd_expected_publication(*parse_ftd_period_key(p))}"
               for p in periods if p not in due]
    if due:
        short_data.prepare(home.paths, FTD_DATASET, ftd_period_bounds(*parse_ftd_period_key(due[0]))[0],
                           ftd_period_bounds(*parse_ftd_period_key(due[-1]))[1])
    landed, failed = [], []
    if due:
        fetcher = short_data.sec(home.paths)
        try:
            links = ftd_links_by_period(fetcher)
        except DealerflowError as exc:
            raise dg.Failure(description=f"SEC fails-to-deliver index page: {exc}") from exc
        for period in due:
            try:
                landed.append(fetch_and_land_ftd(fetcher, lake, period, links, short_data.mode))
            except DealerflowError as exc:
                context.log.error(str(exc))
                failed.append(f"{period}: {exc}")
    yield _finish(context, FTD_KEY, landed, skipped, failed, len(periods), short_data.mode)
    yield _result(FTD_KEY, "fetch_succeeded", failed)
    tables = [(v, _read(lake, v)) for v in landed]
    trailer = []
    for v, t in tables:
        total = int(pc.sum(t["quantity"]).as_py() or 0)
        if v.facts.get("has_trailer") and (v.facts["trailer_record_count"] != t.num_rows
                                           or v.facts["trailer_total_quantity"] != total):
            trailer.append(f"{_label(v)}: trailer {v.facts['trailer_record_count']} rows / "
                           f"{v.facts['trailer_total_quantity']} shares vs {t.num_rows} / {total}")
        elif not v.facts.get("has_trailer"):
            trailer.append(f"{_label(v)}: no trailer lines, nothing reconciled")
    yield _result(FTD_KEY, "trailer_reconciles", trailer)
    yield _result(FTD_KEY, "no_duplicate_rows", [f"{_label(v)}: {n} duplicate (settlement date, CUSIP) row(s)"
                                                 for v, t in tables if (n := _duplicates(t, ["settlement_date", "cusip"]))])
    yield _result(FTD_KEY, "published_before_due",
                  [f"{_label(v)}: published {v.facts.get('published_on')} before expected {v.facts.get('due_date')}"
                   for v in landed if v.facts.get("published_before_due")], severity=dg.AssetCheckSeverity.WARN)
    yield _expectations(FTD_KEY, "short_ftd_raw", [t for v, t in tables if v.is_new])
