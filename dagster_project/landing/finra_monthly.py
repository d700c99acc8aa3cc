"""Land FINRA monthly partitions (blocksSummary, otcBlocksSummary, monthlySummary) from the Query API or a replay folder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.errors import DealerflowError, ParseError
from dagster_project.lake import Lake
from dagster_project.sources import finra_monthly as fm


@dataclass(frozen=True)
class LandedMonth:
    dataset: str  # lake dataset name
    month: date
    tier: str | None
    rows: int
    version_id: str
    is_new: bool
    record_total: int
    first_published: date | None  # earliest initialPublishedDate in the version

    @property
    def what(self) -> str:
        return f"{self.dataset} {self.month:%Y-%m}" + (f" {self.tier}" if self.tier else "")


def land_month(client, lake: Lake, dataset: fm.MonthlyDataset, month: date, tier: str | None, origin: str) -> LandedMonth:
    """Fetch one (month[, tier]) partition completely, parse it and land it as a lake version.

    An empty answer (HTTP 204, e.g. a month before the dataset starts) lands as an empty version, so a
    restatement to empty supersedes older rows and dbt always finds the partition.
    """
    fetched = client.fetch_partition(dataset.api_name, dataset.api_filters(month, tier))
    source = f"{fetched.what} ({fetched.source})"
    table = fm.parse_api_pages(dataset, fetched.payloads(), source)
    if table.num_rows != fetched.record_total:
        raise DealerflowError(f"{source}: parsed {table.num_rows} rows but Record-Total is {fetched.record_total}")
    wrong = pc.not_equal(table["monthStartDate"], pa.scalar(month, pa.date32()))
    if dataset.tiers:
        wrong = pc.or_(wrong, pc.not_equal(table["tierIdentifier"], tier))
    if table.num_rows and pc.any(wrong).as_py():
        idx = pc.index(wrong, True).as_py()
        raise ParseError(source, f"record {idx + 1} belongs to month {table['monthStartDate'][idx]}, not the requested "
                                 f"{month}" + (f" {tier}" if tier else ""))
    published = pc.max(table["lastUpdateDate"]).as_py() if table.num_rows else None
    first = pc.min(table["initialPublishedDate"]).as_py() if table.num_rows else None
    facts = {"origin": origin, "record_total": fetched.record_total, "fetched": fetched.facts(),
             "published_on": published.isoformat() if published else None,
             "first_published": first.isoformat() if first else None}
    result = lake.land(dataset.lake_name, dataset.lake_partition(month, tier), table, fetched.payloads(), facts)
    return LandedMonth(dataset.lake_name, month, tier, result.version.rows, result.version.version_id, result.is_new,
                       fetched.record_total, first)
