"""Land FINRA weekly OTC transparency partitions (from the Query API, a replay folder, or download files)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.errors import DealerflowError, IncompletePartitionError, ParseError
from dagster_project.expectations import SuiteResult, validate
from dagster_project.lake import Lake, LandResult
from dagster_project.publication_calendar import kinds_reported
from dagster_project.sources import finra_weekly as fw


@dataclass(frozen=True)
class LandedPartition:
    week: date
    tier: str
    kind: str
    rows: int
    version_id: str
    is_new: bool
    record_total: int | None
    first_published: date | None  # earliest initialPublishedDate in the version, if FINRA sent one


def _facts(table: pa.Table, origin: str, **extra) -> dict:
    published = pc.max(table["lastUpdateDate"]).as_py() if table.num_rows else None
    first = pc.min(table["initialPublishedDate"]).as_py() if table.num_rows else None
    return {"origin": origin, "published_on": published.isoformat() if published else None,
            "first_published": first.isoformat() if first else None, **extra}


def land_api_partition(client, lake: Lake, week: date, tier: str, today: date, origin: str) -> list[LandedPartition]:
    """Fetch one (week, tier) from the Query API (or replay) and land each venue kind as a lake partition.

    The fetch must be complete (rows == Record-Total) before anything is landed. A kind with no rows is
    landed as an empty version, so a restatement to empty supersedes older rows; but an entirely empty answer
    for a (week, tier) that already holds rows is refused.
    """
    return [landed for landed, _ in _land_api_partition(client, lake, week, tier, today, origin)]


def _land_api_partition(client, lake: Lake, week: date, tier: str, today: date,
                        origin: str) -> list[tuple[LandedPartition, pa.Table]]:
    dataset = fw.weekly_dataset_for(week, today)
    fetched = client.fetch_partition(dataset, fw.api_filters(week, tier))
    source = f"{fetched.what} ({fetched.source})"
    if fetched.record_total == 0:
        held = {k: v for k in kinds_reported(week)
                if (v := lake.latest(fw.DATASET, fw.lake_partition(week, tier, k))) is not None and v.rows}
        if held:
            # An empty answer (HTTP 204) for a week already landed with rows is far likelier an API glitch than
            # FINRA withdrawing the week: superseding it with empty versions would silently empty the marts.
            raise IncompletePartitionError(
                f"{fetched.what}: the source answered no records, but the lake holds "
                + ", ".join(f"{k} {v.rows} rows (version {v.version_id})" for k, v in held.items())
                + "; not superseding landed rows with an empty version")
    payloads: dict[str, bytes | Path] = fetched.payloads()
    table = fw.parse_api_pages(payloads, source)
    if table.num_rows != fetched.record_total:
        raise IncompletePartitionError(f"{source}: parsed {table.num_rows} rows but Record-Total is "
                                       f"{fetched.record_total}; nothing landed")
    wrong = pc.or_(pc.not_equal(table["weekStartDate"], pa.scalar(week, pa.date32())),
                   pc.not_equal(table["tierIdentifier"], tier))
    if table.num_rows and pc.any(wrong).as_py():
        idx = pc.index(wrong, True).as_py()
        raise ParseError(source, f"record {idx + 1} belongs to week {table['weekStartDate'][idx]} tier "
                                 f"{table['tierIdentifier'][idx]}, not the requested {week} {tier}")
    parts = fw.split_by_kind(table)
    results = []
    for kind in kinds_reported(week):
        rows = parts.get((week, tier, kind), table.schema.empty_table())
        result = lake.land(fw.DATASET, fw.lake_partition(week, tier, kind), rows, payloads,
                           _facts(rows, origin, record_total=fetched.record_total, fetched=fetched.facts()),
                           compress_payloads=True)
        results.append((_landed(week, tier, kind, result, fetched.record_total), rows))
        if result.is_new:  # every kind keeps the fetch's pages; the next kind links to these files, not a copy
            payloads = {name: result.version.payload_path(name) for name in fetched.payloads()}
    return results


@dataclass(frozen=True)
class PartitionOutcome:
    """What landing one (week, tier) produced: its landed versions and the raw suite's verdict on the new rows,
    or the error that stopped it (nothing of that (week, tier) landed then, except kinds landed before it)."""

    week: date
    tier: str
    landed: tuple[LandedPartition, ...] = ()
    expectations: SuiteResult | None = None  # None when no new rows were landed
    error: str | None = None


def land_and_validate(client, lake_root: Path, week: date, tier: str, today: date, origin: str,
                      suite: str) -> PartitionOutcome:
    """Land one (week, tier) and validate the rows of its new versions with the GX ``suite`` while they are in memory
    (no re-read, and memory bounded by one partition). A source or parse problem is returned, not raised, so one bad
    partition does not stop the others of a backfill."""
    try:
        landed = _land_api_partition(client, Lake(lake_root), week, tier, today, origin)
    except DealerflowError as exc:
        return PartitionOutcome(week, tier, error=str(exc))
    new_rows = [rows for p, rows in landed if p.is_new and p.rows]
    verdict = validate(suite, pa.concat_tables(new_rows)) if new_rows else None
    return PartitionOutcome(week, tier, tuple(p for p, _ in landed), verdict)


def land_partitions(client, lake_root: Path, pairs: list[tuple[date, str]], today: date, origin: str, suite: str,
                    workers: int) -> Iterator[PartitionOutcome]:
    """Land and validate (week, tier) partitions, in ``workers`` processes when there is more than one partition.

    Parsing, hashing and GX are CPU-bound and partly hold the GIL, so partitions run in separate processes; each
    holds one partition at a time, so memory does not grow with the backfill. Outcomes come in completion order."""
    if workers <= 1 or len(pairs) <= 1:
        for week, tier in pairs:
            yield land_and_validate(client, lake_root, week, tier, today, origin, suite)
        return
    context = multiprocessing.get_context("spawn")  # never fork a process that runs threads (Dagster, DuckDB)
    done: set[tuple[date, str]] = set()
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(pairs)), mp_context=context) as pool:
            futures = {pool.submit(land_and_validate, client, lake_root, week, tier, today, origin, suite): (week, tier)
                       for week, tier in pairs}
            for future in as_completed(futures):
                outcome = future.result()
                done.add((outcome.week, outcome.tier))
                yield outcome
    except BrokenProcessPool as exc:
        pending = [f"{week} {tier}" for week, tier in pairs if (week, tier) not in done]
        raise DealerflowError(f"a landing worker process died ({exc}); not landed: {', '.join(pending)}. Landed "
                              "versions are complete (never half-written): rerun the range") from exc


def import_legacy_files(files: list[Path], lake: Lake, week: date, kind: str) -> list[LandedPartition]:
    """Land FINRA weekly download files (pipe-delimited, symbol x venue).

    Every good file lands; every bad one is quarantined; then the first problem is raised, naming the rest.
    Two files holding the same (week, tier, kind) are both refused: each would land as that partition's whole
    new version, so the second would silently supersede the first.
    """
    kind = kind.upper()
    errors: list[ParseError] = []
    parsed: list[tuple[Path, bytes, dict]] = []
    for file in map(Path, files):
        data = file.read_bytes()
        try:
            table = fw.parse_legacy_file(data, str(file), week, kind)
            if table.num_rows == 0:
                raise ParseError(str(file), "no data rows", 2)
        except ParseError as exc:
            where = lake.quarantine(fw.DATASET, file.name, data, str(exc))
            errors.append(ParseError(exc.source, f"{exc.problem} (file quarantined at {where})", exc.line))
            continue
        parsed.append((file, data, fw.split_by_kind(table)))
    claims: dict[tuple, list[Path]] = {}
    for file, _, parts in parsed:
        for key in parts:
            claims.setdefault(key, []).append(file)
    clashing = {f for owners in claims.values() if len(owners) > 1 for f in owners}
    for key, owners in claims.items():
        if len(owners) > 1:
            errors.append(ParseError(", ".join(map(str, owners)), f"{len(owners)} files hold week {key[0]} tier {key[1]} "
                                     f"{key[2]}; import one file per week, tier and kind (nothing landed from them)"))
    results = []
    for file, data, parts in parsed:
        if file in clashing:
            continue
        for (wk, tier, k), rows in parts.items():
            result = lake.land(fw.DATASET, fw.lake_partition(wk, tier, k), rows, {file.name: data},
                               _facts(rows, f"import {file.name}", record_total=None))
            results.append(_landed(wk, tier, k, result, None))
    if errors:
        first = errors[0]
        others = f" ({len(errors) - 1} more problem(s): {'; '.join(e.source for e in errors[1:])})" if errors[1:] else ""
        landed = f"; {len(results)} partition(s) from the other files landed" if results else ""
        raise ParseError(first.source, f"{first.problem}{others}{landed}", first.line)
    return results


def _landed(week, tier, kind, result: LandResult, record_total) -> LandedPartition:
    first = result.version.manifest["facts"].get("first_published")
    return LandedPartition(week, tier, kind, result.version.rows, result.version.version_id, result.is_new, record_total,
                           date.fromisoformat(first) if first else None)
