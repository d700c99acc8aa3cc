"""FINRA monthly OTC transparency: block-size summaries (ATS and non-ATS) and non-ATS monthly totals.

Three Query API datasets, each parsed with its own explicit Arrow schema and FINRA's field names
(the raw layer renames nothing):

* ``blocksSummary`` — per ATS (MPID) and block category, all NMS stocks, from month 2016-08;
* ``otcBlocksSummary`` — the same per non-ATS firm (``crdFirmName``, no MPID), from month 2019-10
  (Regulatory Notice 19-29);
* ``monthlySummary`` — non-ATS volume per firm, symbol and symbol × firm, tiers ``NMS`` and ``OTCE``.

Share quantities are exact decimals and counts integers; FINRA's own averages and percentages are
ratios it computed, kept as float64 only to be reconciled against ratios recomputed in SQL. An
unknown field is schema drift and fails the partition. The block invariants (category nesting,
block volume within total volume) are checked here, in pure code, for the raw asset's checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from dagster_project.errors import ParseError
from dagster_project.sources.finra_api_pages import parse_pages, to_date

SHARES = pa.decimal128(38, 6)
MONEY = pa.decimal128(38, 6)
RATIO = pa.float64()
RANK = pa.int64()

#: The six block categories (FINRA summaryTypeCode) and their thresholds.
BLOCK_CATEGORIES = {
    "10K": "10,000 shares or more",
    "200K": "$200,000 or more",
    "10K-200K": "10,000 shares or more and $200,000 or more",
    "2K": "2,000 to 9,999 shares",
    "100K": "$100,000 to $199,999",
    "2K-100K": "2,000 to 9,999 shares and $100,000 to $199,999",
}
#: (combined category, its two parents): a combined category is a subset of each parent.
NESTED_CATEGORIES = (("10K-200K", "10K", "200K"), ("2K-100K", "2K", "100K"))
MONTHLY_TIERS = ("NMS", "OTCE")
MONTHLY_SUMMARY_TYPES = ("OTC_M_SMBL", "OTC_M_SMBL_FIRM", "OTC_M_FIRM", "OTC_M_VOL_STATS")
DE_MINIMIS_NAME = "De Minimis Firms"


def _block_fields(prefix: str, venue_fields: dict[str, pa.DataType]) -> dict[str, pa.DataType]:
    fields = {"monthStartDate": pa.string(), **venue_fields, "summaryStartDate": pa.string(),
              "totalTradeCount": pa.int64(), "totalShareQuantity": SHARES, "averageTradeSize": RATIO,
              "averageTradeSizeRank": RANK, f"{prefix}TradeRank": RANK, f"{prefix}ShareRank": RANK,
              f"{prefix}TradePercent": RATIO, f"{prefix}SharePercent": RATIO,
              f"{prefix}BlockCount": pa.int64(), f"{prefix}BlockQuantity": SHARES, "averageBlockSize": RATIO,
              "averageBlockSizeRank": RANK, f"{prefix}BlockTradeRank": RANK, f"{prefix}BlockShareRank": RANK,
              f"{prefix}BlockTradePercent": RATIO, f"{prefix}BlockSharePercent": RATIO,
              f"{prefix}BlockBusinessTradePercent": RATIO, f"{prefix}BlockBusinessSharePercent": RATIO,
              f"{prefix}BlockBusinessTradeRank": RANK, f"{prefix}BlockBusinessShareRank": RANK,
              "summaryTypeCode": pa.string(), "summaryTypeDescription": pa.string(),
              "lastUpdateDate": pa.string(), "initialPublishedDate": pa.string(), "lastReportedDate": pa.string(),
              "atsOtc": pa.string()}
    return fields


@dataclass(frozen=True)
class MonthlyDataset:
    """One FINRA monthly Query API dataset: its fields, lake dataset, partition fields and venue key."""

    api_name: str
    lake_name: str
    fields: dict[str, pa.DataType]
    first_month: date
    tiers: tuple[str, ...] = ()  # second partition field (monthlySummary only)
    kind: str | None = None      # ATS | OTC for block datasets
    venue_field: str = ""        # the field naming the venue (MPID / crdFirmName / marketParticipantName)
    count_field: str = ""
    quantity_field: str = ""

    @property
    def date_fields(self) -> tuple[str, ...]:
        return ("monthStartDate", "summaryStartDate", "lastUpdateDate", "initialPublishedDate", "lastReportedDate")

    @property
    def raw_schema(self) -> pa.Schema:
        return pa.schema([(n, pa.date32() if n in self.date_fields else t) for n, t in self.fields.items()])

    def api_filters(self, month: date, tier: str | None = None) -> dict[str, str]:
        filters = {"monthStartDate": month.isoformat()}
        if self.tiers:
            filters["tierIdentifier"] = tier
        return filters

    def lake_partition(self, month: date, tier: str | None = None) -> dict[str, str]:
        partition = {"month": month.isoformat()}
        if self.tiers:
            partition["tier"] = tier
        return partition

    def partitions(self, month: date) -> list[str | None]:
        return list(self.tiers) if self.tiers else [None]


ATS_BLOCKS = MonthlyDataset(
    "blocksSummary", "finra_ats_blocks",
    _block_fields("ATS", {"MPID": pa.string(), "marketParticipantName": pa.string()}),
    first_month=date(2016, 8, 1), kind="ATS", venue_field="MPID",
    count_field="ATSBlockCount", quantity_field="ATSBlockQuantity")
OTC_BLOCKS = MonthlyDataset(
    "otcBlocksSummary", "finra_otc_blocks",
    _block_fields("OTC", {"crdFirmName": pa.string()}),
    first_month=date(2019, 10, 1), kind="OTC", venue_field="crdFirmName",
    count_field="OTCBlockCount", quantity_field="OTCBlockQuantity")
MONTHLY_SUMMARY = MonthlyDataset(
    "monthlySummary", "finra_monthly_summary",
    {"monthStartDate": pa.string(), "tierIdentifier": pa.string(), "issueSymbolIdentifier": pa.string(),
     "issueName": pa.string(), "firmCRDNumber": pa.int64(), "marketParticipantName": pa.string(),
     "summaryStartDate": pa.string(), "totalMonthlyTradeCount": pa.int64(), "totalMonthlyShareQuantity": SHARES,
     "productTypeCode": pa.string(), "summaryTypeCode": pa.string(), "lastUpdateDate": pa.string(),
     "initialPublishedDate": pa.string(), "lastReportedDate": pa.string(), "totalNotionalSum": MONEY},
    first_month=date(2016, 4, 1), tiers=MONTHLY_TIERS, venue_field="marketParticipantName")
DATASETS = (ATS_BLOCKS, OTC_BLOCKS, MONTHLY_SUMMARY)
BLOCK_DATASETS = (ATS_BLOCKS, OTC_BLOCKS)


# -- Query API pages ---------------------------------------------------------------------------------
def parse_api_pages(dataset: MonthlyDataset, pages: dict[str, bytes], source: str) -> pa.Table:
    """Parse one partition's JSON pages into the dataset's raw table (exact numbers; drift is an error)."""
    table = parse_pages(pages, dataset.fields, source)
    columns = {}
    for field in dataset.raw_schema:
        col = table[field.name]
        columns[field.name] = to_date(col, source, field.name) if field.name in dataset.date_fields else col
    return _validate(dataset, pa.table(columns, schema=dataset.raw_schema), source)


def _validate(dataset: MonthlyDataset, table: pa.Table, source: str) -> pa.Table:
    """Row rules of every raw monthly table; the first violation names its record."""

    def fail(mask, problem):
        if pc.any(mask).as_py():
            raise ParseError(source, f"{problem} (record {pc.index(mask, True).as_py() + 1})")

    required = ["monthStartDate", "summaryTypeCode"]
    if dataset.kind:
        required += [dataset.venue_field, "totalTradeCount", "totalShareQuantity", dataset.count_field,
                     dataset.quantity_field]
    else:
        required += ["tierIdentifier", "totalMonthlyTradeCount", "totalMonthlyShareQuantity"]
    for name in required:
        fail(pc.is_null(table[name]), f"missing {name}")
    fail(pc.not_equal(pc.day(table["monthStartDate"]), 1), "monthStartDate is not the first day of a month")
    if dataset.kind:
        fail(pc.invert(pc.is_in(table["summaryTypeCode"], pa.array(list(BLOCK_CATEGORIES)))), "unknown summaryTypeCode")
        fail(pc.not_equal(pc.fill_null(table["atsOtc"], dataset.kind), dataset.kind), f"atsOtc is not {dataset.kind}")
        numbers = ("totalTradeCount", "totalShareQuantity", dataset.count_field, dataset.quantity_field)
        keys = ["monthStartDate", dataset.venue_field, "summaryTypeCode"]
        what = "venue and block category"
    else:
        fail(pc.invert(pc.is_in(table["summaryTypeCode"], pa.array(MONTHLY_SUMMARY_TYPES))), "unknown summaryTypeCode")
        fail(pc.invert(pc.is_in(table["tierIdentifier"], pa.array(MONTHLY_TIERS))), "unknown tierIdentifier")
        numbers = ("totalMonthlyTradeCount", "totalMonthlyShareQuantity")
        keys = ["monthStartDate", "tierIdentifier", "summaryTypeCode", "issueSymbolIdentifier", "issueName",
                "productTypeCode", "firmCRDNumber", "marketParticipantName"]
        what = "month, tier, grain, symbol and firm"
    for name in numbers:
        fail(pc.less(table[name], pa.scalar(0, table.schema.field(name).type)), f"negative {name}")
    if table.num_rows:
        counts = table.select(keys).group_by(keys, use_threads=False).aggregate([([], "count_all")])
        dup = counts.filter(pc.greater(counts["count_all"], 1))
        if dup.num_rows:
            first = dup.slice(0, 1).to_pylist()[0]
            raise ParseError(source, f"duplicate row for the same {what}: "
                                     + ", ".join(f"{k}={first[k]}" for k in keys))
    return table


# -- block invariants (used by the raw asset's checks; the dbt tests assert the same in SQL) --------------
def block_totals(dataset: MonthlyDataset, table: pa.Table):
    """Rows as (month, venue, category, block trades, block shares, total trades, total shares) via DuckDB."""
    import duckdb

    con = duckdb.connect()
    con.register("t", table.select(["monthStartDate", dataset.venue_field, "summaryTypeCode", dataset.count_field,
                                    dataset.quantity_field, "totalTradeCount", "totalShareQuantity"]))
    return con, (f'select "monthStartDate" as month, "{dataset.venue_field}" as venue, "summaryTypeCode" as category, '
                 f'"{dataset.count_field}" as trades, "{dataset.quantity_field}" as shares, '
                 f'"totalTradeCount" as total_trades, "totalShareQuantity" as total_shares from t')


def nesting_violations(dataset: MonthlyDataset, table: pa.Table) -> list[str]:
    """Combined categories must not exceed either parent: 10K-200K <= min(10K, 200K), 2K-100K <= min(2K, 100K)."""
    if table.num_rows == 0:
        return []
    con, rows = block_totals(dataset, table)
    out = []
    try:
        for combined, left, right in NESTED_CATEGORIES:
            for measure in ("trades", "shares"):
                found = con.execute(f"""
                    with b as ({rows})
                    select c.month, c.venue, c.{measure}, l.{measure}, r.{measure}
                    from b as c
                    join b as l on l.month = c.month and l.venue = c.venue and l.category = '{left}'
                    join b as r on r.month = c.month and r.venue = c.venue and r.category = '{right}'
                    where c.category = '{combined}' and c.{measure} > least(l.{measure}, r.{measure})
                    order by 1, 2""").fetchall()
                out += [f"{m} {dataset.kind} {v}: {combined} block {measure} {_n(c)} exceed min({left} {_n(lv)}, "
                        f"{right} {_n(rv)})" for m, v, c, lv, rv in found]
    finally:
        con.close()
    return out


def within_total_violations(dataset: MonthlyDataset, table: pa.Table) -> list[str]:
    """A venue's block trades and block shares in a category cannot exceed its total trades and shares."""
    if table.num_rows == 0:
        return []
    con, rows = block_totals(dataset, table)
    try:
        found = con.execute(f"""
            with b as ({rows})
            select month, venue, category, trades, total_trades, shares, total_shares from b
            where trades > total_trades or shares > total_shares order by 1, 2, 3""").fetchall()
    finally:
        con.close()
    return [f"{m} {dataset.kind} {v}: {c} block volume ({_n(s)} shares, {_n(t)} trades) exceeds its total volume "
            f"({_n(ts)} shares, {_n(tt)} trades)" for m, v, c, t, tt, s, ts in found]


def category_coverage_violations(dataset: MonthlyDataset, table: pa.Table) -> list[str]:
    """Each venue appears once in every one of the six categories of a month (duplicates fail at parse)."""
    if table.num_rows == 0:
        return []
    con, rows = block_totals(dataset, table)
    try:
        found = con.execute(f"""
            with b as ({rows})
            select month, venue, string_agg(category, ',' order by category) from b
            group by 1, 2 having count(distinct category) <> {len(BLOCK_CATEGORIES)} order by 1, 2""").fetchall()
    finally:
        con.close()
    return [f"{m} {dataset.kind} {v}: has categories {cats}, expected all of {', '.join(BLOCK_CATEGORIES)}"
            for m, v, cats in found]


def _n(value) -> str:
    """A number as FINRA would print it (no trailing zeros)."""
    if isinstance(value, Decimal):
        value = value.normalize()
        return f"{value:f}"
    return str(value)
