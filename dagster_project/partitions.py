"""Partition definitions, and how a run's partitions translate into dates, tiers and dbt vars."""

from __future__ import annotations

import json
from datetime import date, timedelta

import dagster as dg

from dagster_project.publication_calendar import ATS_FIRST_WEEK, TIERS

#: FINRA weeks start on Monday (day_offset=1); only completed weeks are partitions.
weekly_partitions = dg.WeeklyPartitionsDefinition(start_date=ATS_FIRST_WEEK.isoformat(), day_offset=1)
tier_partitions = dg.StaticPartitionsDefinition(list(TIERS))
week_tier_partitions = dg.MultiPartitionsDefinition({"week": weekly_partitions, "tier": tier_partitions})


def week_tier_key(week: date, tier: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"week": week.isoformat(), "tier": tier})


def week_tiers_of(partition_keys) -> list[tuple[date, str]]:
    """The (week, tier) pairs of a run's partition keys, sorted by week then tier order."""
    pairs = []
    for key in partition_keys:
        dims = key.keys_by_dimension if isinstance(key, dg.MultiPartitionKey) else dg.MultiPartitionKey.from_str(key).keys_by_dimension  # noqa: E501
        pairs.append((date.fromisoformat(dims["week"]), dims["tier"]))
    return sorted(set(pairs), key=lambda p: (p[0], TIERS.index(p[1])))


def dbt_vars(pairs: list[tuple[date, str]]) -> dict:
    """dbt vars for a run: the covering week window [week_start, week_end) and its tiers."""
    weeks = [w for w, _ in pairs]
    return {
        "week_start": min(weeks).isoformat(),
        "week_end": (max(weeks) + timedelta(days=7)).isoformat(),
        "tiers": sorted({t for _, t in pairs}, key=TIERS.index),
    }


def dbt_vars_json(pairs: list[tuple[date, str]]) -> str:
    return json.dumps(dbt_vars(pairs))
