"""FINRA weekly OTC transparency: the raw lake asset, partitioned by week x tier, with its checks."""


from datetime import date

import dagster as dg

from dagster_project.landing.finra_weekly import LandedPartition, PartitionOutcome, land_partitions
from dagster_project.partitions import week_tier_partitions, week_tiers_of
from dagster_project.publication_calendar import finra_weekly_due
from dagster_project.resources import FinraSourceResource, HomeResource

RAW_KEY = dg.AssetKey(["raw", "finra_weekly"])
RAW_SUITE = "finra_weekly_raw"

CHECKS = [
    dg.AssetCheckSpec("fetch_succeeded", asset=RAW_KEY, blocking=False,
                      description="Every requested, published partition was fetched and landed; failures name the partition."),
    dg.AssetCheckSpec("rows_match_record_total", asset=RAW_KEY, blocking=True,
                      description="Rows landed for each (week, tier) equal FINRA's Record-Total for the fetch."),
    dg.AssetCheckSpec("published_window", asset=RAW_KEY, blocking=True,
                      description="No partition holds data before its publication due date (calendar) and no row "
                                  "claims initial publication before it."),
    dg.AssetCheckSpec("raw_expectations", asset=RAW_KEY, blocking=True,
                      description="Great Expectations suite expectations/finra_weekly_raw.json on the rows of every new version."),
]


@dg.asset(
    key=RAW_KEY,
    partitions_def=week_tier_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=CHECKS,
    group_name="finra_weekly",
    kinds={"python", "parquet"},
    description="FINRA weekly OTC transparency (ATS and non-ATS, all summary grains) landed immutably in the lake, "
                "one version per restatement. Unpublished partitions in a range are skipped with a reason.",
    tags={"dealerflow/source": "finra"},
)
def finra_weekly_raw(context: dg.AssetExecutionContext, home: HomeResource, finra: FinraSourceResource):
    lake, today = home.lake, date.today()
    client = finra.client(home.paths)
    pairs = week_tiers_of(context.partition_keys)
    # The availability sensor tags runs for partitions FINRA already lists, even ahead of the calendar.
    source_confirmed = context.run.tags.get("dealerflow/source_confirmed") == "true"
    due = {(week, tier): finra_weekly_due(week, tier) for week, tier in pairs}
    skipped = [f"{week} {tier}: not published until {due[week, tier]}" for week, tier in pairs
               if due[week, tier] > today and not source_confirmed]
    wanted = [(week, tier) for week, tier in pairs if source_confirmed or due[week, tier] <= today]
    for reason in skipped:
        context.log.info(f"skipped {reason}")
    outcomes: list[PartitionOutcome] = []
    for outcome in land_partitions(client, lake.root, wanted, today, finra.mode, RAW_SUITE, finra.workers()):
        outcomes.append(outcome)
        if outcome.error:
            context.log.error(outcome.error)
        else:
            context.log.info(f"{outcome.week} {outcome.tier}: " + ", ".join(
                f"{p.kind} {p.rows:,} rows ({'new version' if p.is_new else 'unchanged'})" for p in outcome.landed))
    failed = [o.error for o in outcomes if o.error]
    if failed and len(failed) == len(wanted):
        raise dg.Failure(description="; ".join(failed), metadata={"failed": failed})
    landed = [p for o in outcomes for p in o.landed]

    yield dg.MaterializeResult(
        asset_key=RAW_KEY,
        metadata={
            "partitions_landed": len({(p.week, p.tier) for p in landed}),
            "new_versions": sum(p.is_new for p in landed),
            "rows": sum(p.rows for p in landed),
            "skipped_unpublished": skipped,
            "failed": failed,
            "source": finra.mode,
        },
    )
    yield dg.AssetCheckResult(check_name="fetch_succeeded", passed=not failed, asset_key=RAW_KEY,
                              severity=dg.AssetCheckSeverity.ERROR, metadata={"failed": failed})
    yield _record_total_check(landed)
    yield _published_window_check(landed, today, source_confirmed)
    yield _expectations_check(outcomes)


def _record_total_check(landed: list[LandedPartition]) -> dg.AssetCheckResult:
    by_partition: dict[tuple, list[LandedPartition]] = {}
    for p in landed:
        by_partition.setdefault((p.week, p.tier), []).append(p)
    mismatches = [f"{w} {t}: {sum(p.rows for p in ps)} rows vs Record-Total {ps[0].record_total}"
                  for (w, t), ps in by_partition.items()
                  if ps[0].record_total is not None and sum(p.rows for p in ps) != ps[0].record_total]
    return dg.AssetCheckResult(check_name="rows_match_record_total", passed=not mismatches, asset_key=RAW_KEY,
                               metadata={"partitions": len(by_partition), "mismatches": mismatches})


def _published_window_check(landed: list[LandedPartition], today: date, source_confirmed: bool) -> dg.AssetCheckResult:
    """Data ahead of the calendar is an error, unless FINRA itself listed it: then the calendar is what is off,
    and the check warns (the data lands; the rule should be reviewed)."""
    early = [f"{p.week} {p.tier}: landed before due date {finra_weekly_due(p.week, p.tier)}"
             for p in landed if finra_weekly_due(p.week, p.tier) > today]
    early += [f"{p.week} {p.tier} {p.kind}: initialPublishedDate {p.first_published} precedes due date "
              f"{finra_weekly_due(p.week, p.tier)}" for p in landed
              if p.first_published is not None and p.first_published < finra_weekly_due(p.week, p.tier)]
    severity = dg.AssetCheckSeverity.WARN if source_confirmed else dg.AssetCheckSeverity.ERROR
    return dg.AssetCheckResult(check_name="published_window", passed=not early, asset_key=RAW_KEY,
                               severity=severity, metadata={"violations": early})


def _expectations_check(outcomes: list[PartitionOutcome]) -> dg.AssetCheckResult:
    """The raw suite's verdicts on every new version, validated partition by partition while landing."""
    verdicts = [(o, o.expectations) for o in outcomes if o.expectations is not None]
    failures = [f"{o.week} {o.tier}: {v.summary()}" for o, v in verdicts if not v.success]
    return dg.AssetCheckResult(check_name="raw_expectations", passed=not failures, asset_key=RAW_KEY,
                               metadata={"validated_partitions": len(verdicts),
                                         "validated_versions": sum(p.is_new and p.rows > 0 for o, _ in verdicts
                                                                   for p in o.landed),
                                         "failures": failures})
