"""Synthetic FINRA monthly data (blocksSummary, otcBlocksSummary, monthlySummary) consistent with the weekly data.

Monthly totals are derived from :func:`dagster_project.synthetic.finra_weekly.week_records` of every week
with a trading day in the month, so a venue's month agrees with its weeks exactly.

Week-to-month allocation: a FINRA week (Monday–Friday) can straddle two months. Each symbol × venue row
of the week is split across months by its NYSE trading days: every month but the last receives
``floor(value × days_in_month / trading_days_in_week)`` (shares counted in half-shares, since FINRA
publishes x.5 quantities) and the last month the remainder, so allocations are exact and sum to the
weekly value. Monthly symbol, firm and venue totals are sums of the allocated symbol × venue rows.

Block categories are generated per venue and month so the FINRA invariants hold by construction
(``10K-200K`` within ``10K`` and ``200K``, ``2K-100K`` within ``2K`` and ``100K``, every category within the
venue's total trades and shares, ``10K`` trades of at least 10,000 shares, ``2K`` trades of 2,000–9,999).
FINRA's percent columns are emitted on the 0–100 scale ("percent", FINRA's field descriptions), rounded
to 2 decimals; ranks are 1 = largest with ties sharing the smallest rank.
"""

from __future__ import annotations

import functools
import json
import zlib
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from dateutil.relativedelta import relativedelta

from dagster_project.publication_calendar import finra_monthly_due, is_business_day, month_start
from dagster_project.sources import finra_monthly as fm
from dagster_project.sources.finra_api import FinraReplayClient, write_replay_partition
from dagster_project.synthetic.finra_weekly import WeeklyConfig, week_records

NMS_TIERS = ("T1", "T2")
WEEKLY_TIERS_OF = {"NMS": NMS_TIERS, "OTCE": ("OTCE",)}


# -- week -> month allocation ----------------------------------------------------------------------
def trading_days(week: date) -> list[date]:
    """NYSE trading days of the FINRA week starting Monday ``week``."""
    return [d for d in (week + timedelta(days=i) for i in range(5)) if is_business_day(d)]


def month_days(week: date) -> list[tuple[date, int]]:
    """(month start, trading days of the week in that month), in month order; a holiday-only week counts in its Monday's month."""
    days = trading_days(week)
    if not days:
        return [(month_start(week), 1)]
    months: dict[date, int] = {}
    for d in days:
        months[month_start(d)] = months.get(month_start(d), 0) + 1
    return sorted(months.items())


def allocate(values: np.ndarray, week: date) -> dict[date, np.ndarray]:
    """Split integer ``values`` of one week across months by trading days: floors first, remainder last."""
    values = np.asarray(values, dtype=np.int64)
    parts = month_days(week)
    total_days = sum(n for _, n in parts)
    out, given = {}, np.zeros_like(values)
    for month, n in parts[:-1]:
        out[month] = values * n // total_days
        given += out[month]
    out[parts[-1][0]] = values - given
    return out


def weeks_touching(month: date) -> list[date]:
    """Mondays of the weeks with at least one trading day in ``month``."""
    end = month + relativedelta(months=1)
    week, weeks = month - timedelta(days=month.weekday()), []
    while week < end:
        if any(month_start(d) == month for d in trading_days(week)) or (not trading_days(week) and month_start(week) == month):
            weeks.append(week)
        week += timedelta(days=7)
    return weeks


@functools.lru_cache(maxsize=8)
def month_detail(month: date, config: WeeklyConfig) -> pd.DataFrame:
    """Symbol × venue rows (both kinds, all tiers) allocated to ``month`` from its weeks' synthetic records."""
    frames = []
    for week in weeks_touching(month):
        for tier in ("T1", "T2", "OTCE"):
            rows = week_records(week, tier, config)
            rows = rows[rows["summaryTypeCode"].str.endswith("_W_SMBL_FIRM")]
            halves = np.rint(rows["totalWeeklyShareQuantity"].to_numpy() * 2).astype(np.int64)
            frames.append(pd.DataFrame({
                "week": week, "tier": tier, "kind": rows["summaryTypeCode"].str[:3].to_numpy(),
                "symbol": rows["issueSymbolIdentifier"].to_numpy(), "issue_name": rows["issueName"].to_numpy(),
                "product": rows["productTypeCode"].to_numpy(), "mpid": rows["MPID"].to_numpy(),
                "venue_name": rows["marketParticipantName"].to_numpy(), "crd": rows["firmCRDNumber"].to_numpy(),
                "halves": allocate(halves, week)[month],
                "trades": allocate(rows["totalWeeklyTradeCount"].to_numpy(), week)[month],
            }))
    detail = pd.concat(frames, ignore_index=True)
    keys = ["tier", "kind", "symbol", "issue_name", "product", "venue_name", "crd"]
    return (detail.groupby(keys, as_index=False, dropna=False)
            .agg(mpid=("mpid", "first"), halves=("halves", "sum"), trades=("trades", "sum")))


def _quantity(halves: int):
    """A half-share count as FINRA prints a share quantity: an integer, or x.5 (exact in binary)."""
    return int(halves // 2) if halves % 2 == 0 else halves / 2


# -- monthlySummary ----------------------------------------------------------------------------------
def monthly_summary_records(month: date, tier: str, config: WeeklyConfig) -> list[dict]:
    """monthlySummary rows of one (month, tier): non-ATS per symbol × firm, per symbol and per firm."""
    if month < fm.MONTHLY_SUMMARY.first_month:
        return []
    detail = month_detail(month, config)
    rows = detail[(detail["kind"] == "OTC") & detail["tier"].isin(WEEKLY_TIERS_OF[tier])]
    rows = rows[(rows["halves"] > 0) | (rows["trades"] > 0)]
    by_firm_symbol = rows.groupby(["symbol", "issue_name", "product", "venue_name", "crd"], as_index=False)[["halves", "trades"]].sum()
    by_symbol = rows.groupby(["symbol", "issue_name", "product"], as_index=False)[["halves", "trades"]].sum()
    by_firm = rows.groupby(["venue_name", "crd"], as_index=False)[["halves", "trades"]].sum()
    due = finra_monthly_due(month).isoformat()
    common = {"monthStartDate": month.isoformat(), "tierIdentifier": tier, "summaryStartDate": month.isoformat(),
              "lastUpdateDate": due, "initialPublishedDate": due, "lastReportedDate": _last_trading_day(month).isoformat()}
    out = []
    for grain, frame in (("OTC_M_SMBL_FIRM", by_firm_symbol), ("OTC_M_SMBL", by_symbol), ("OTC_M_FIRM", by_firm)):
        for r in frame.to_dict("records"):
            record = {**common, "summaryTypeCode": grain, "totalMonthlyShareQuantity": _quantity(int(r["halves"])),
                      "totalMonthlyTradeCount": int(r["trades"])}
            if "symbol" in r:
                record.update(issueSymbolIdentifier=r["symbol"], issueName=r["issue_name"], productTypeCode=r["product"])
            if "venue_name" in r:
                record.update(marketParticipantName=r["venue_name"], firmCRDNumber=int(r["crd"]))
            out.append(record)
    return out


def _last_trading_day(month: date) -> date:
    day = month + relativedelta(months=1) - timedelta(days=1)
    while not is_business_day(day):
        day -= timedelta(days=1)
    return day


# -- blocksSummary / otcBlocksSummary ----------------------------------------------------------------
def venue_totals(month: date, kind: str, config: WeeklyConfig) -> pd.DataFrame:
    """A kind's venues with their NMS (Tier 1 + Tier 2) total shares (half-shares) and trades for the month."""
    detail = month_detail(month, config)
    rows = detail[(detail["kind"] == kind) & detail["tier"].isin(NMS_TIERS)]
    rows = rows.assign(venue=rows["mpid"] if kind == "ATS" else rows["venue_name"])
    totals = rows.groupby("venue", as_index=False).agg(venue_name=("venue_name", "first"), halves=("halves", "sum"),
                                                       trades=("trades", "sum"))
    return totals[totals["trades"] > 0].sort_values("venue", ignore_index=True)


def block_categories(month: date, kind: str, totals: pd.DataFrame, config: WeeklyConfig) -> pd.DataFrame:
    """Block trades and shares of every venue in the six categories; invariants hold by construction."""
    rows = []
    for venue, halves, trades in zip(totals["venue"], totals["halves"], totals["trades"]):
        rng = np.random.default_rng([config.seed, month.toordinal(), zlib.crc32(f"{kind}|{venue}".encode())])
        shares, trades = int(halves) // 2, int(trades)  # whole shares available for block trades
        avg = shares / max(trades, 1)
        price = 60.0 * rng.lognormal(0.0, 0.5)
        f10 = 0.01 + 0.85 * avg / (avg + 12000)
        f2 = min(0.03 + 0.25 * avg / (avg + 2500), 0.95 - f10)
        q10 = int(shares * f10)
        n10 = min(int(q10 // (max(10000.0, avg) * (1.1 + rng.lognormal(0.0, 0.3)))), trades)
        q10 = q10 if n10 else 0
        q2 = int(shares * f2)
        n2 = min(int(q2 // (2000 + 6000 * rng.random())), trades - n10)
        q2 = min(q2, 9999 * n2)
        r1 = min(1.0, price / 20.0) * rng.uniform(0.85, 1.0)      # 10K trades worth $200K or more
        r2 = float(np.clip((price - 20.0) / 100.0, 0.0, 0.6))      # 2K trades worth $200K or more
        r3 = float(np.clip((price - 10.0) / 60.0, 0.0, 1.0 - r2)) * 0.8  # 2K trades worth $100K-$199,999
        r4 = float(np.clip((price - 50.0) / 500.0, 0.0, 0.02))      # sub-2K trades worth $100K-$199,999
        n_both, q_both = int(n10 * r1), int(q10 * r1)
        n_x, q_x = int(n2 * r2), int(q2 * r2)
        n_b2, q_b2 = int(n2 * r3), int(q2 * r3)
        n_s = int((trades - n10 - n2) * r4)
        q_s = min(int((shares - q10 - q2) * r4 * 3), 1999 * n_s)
        for code, n, q in (("10K", n10, q10), ("200K", n_both + n_x, q_both + q_x), ("10K-200K", n_both, q_both),
                           ("2K", n2, q2), ("100K", n_b2 + n_s, q_b2 + q_s), ("2K-100K", n_b2, q_b2)):
            rows.append({"venue": venue, "category": code, "block_trades": n, "block_shares": q})
    return pd.DataFrame(rows, columns=["venue", "category", "block_trades", "block_shares"])


def block_records(month: date, kind: str, config: WeeklyConfig) -> list[dict]:
    """blocksSummary (kind ATS) or otcBlocksSummary (kind OTC) rows of one month, with FINRA's percents and ranks."""
    dataset = fm.ATS_BLOCKS if kind == "ATS" else fm.OTC_BLOCKS
    if month < dataset.first_month:
        return []
    totals = venue_totals(month, kind, config)
    if totals.empty:
        return []
    frame = block_categories(month, kind, totals, config).merge(totals, on="venue")
    frame["total_shares"] = frame["halves"] / 2.0
    frame["avg_trade"] = frame["total_shares"] / frame["trades"]
    frame["avg_block"] = np.where(frame["block_trades"] > 0, frame["block_shares"] / frame["block_trades"].clip(lower=1), 0.0)
    by_cat = frame.groupby("category")

    def pct(numerator, denominator):
        return np.round(np.where(denominator > 0, 100.0 * numerator / np.where(denominator > 0, denominator, 1), 0.0), 2)

    def rank(column):
        return by_cat[column].rank(method="min", ascending=False).astype(int)

    frame["block_business_share"] = np.where(frame["total_shares"] > 0, frame["block_shares"] / frame["total_shares"], 0.0)
    frame["block_business_trade"] = frame["block_trades"] / frame["trades"]
    p = kind
    due = finra_monthly_due(month).isoformat()
    frame = frame.assign(**{
        f"{p}TradePercent": pct(frame["trades"], by_cat["trades"].transform("sum")),
        f"{p}SharePercent": pct(frame["total_shares"], by_cat["total_shares"].transform("sum")),
        f"{p}TradeRank": rank("trades"), f"{p}ShareRank": rank("total_shares"), "averageTradeSizeRank": rank("avg_trade"),
        f"{p}BlockTradePercent": pct(frame["block_trades"], by_cat["block_trades"].transform("sum")),
        f"{p}BlockSharePercent": pct(frame["block_shares"], by_cat["block_shares"].transform("sum")),
        f"{p}BlockBusinessTradePercent": np.round(100.0 * frame["block_business_trade"], 2),
        f"{p}BlockBusinessSharePercent": np.round(100.0 * frame["block_business_share"], 2),
        f"{p}BlockTradeRank": rank("block_trades"), f"{p}BlockShareRank": rank("block_shares"),
        "averageBlockSizeRank": rank("avg_block"),
        f"{p}BlockBusinessTradeRank": rank("block_business_trade"),
        f"{p}BlockBusinessShareRank": rank("block_business_share"),
    })
    out = []
    for r in frame.to_dict("records"):
        venue = {"MPID": r["venue"], "marketParticipantName": r["venue_name"]} if kind == "ATS" else {"crdFirmName": r["venue"]}
        record = {
            "monthStartDate": month.isoformat(), **venue, "summaryStartDate": month.isoformat(),
            "totalTradeCount": int(r["trades"]), "totalShareQuantity": _quantity(int(r["halves"])),
            "averageTradeSize": round(float(r["avg_trade"]), 2),
            f"{p}BlockCount": int(r["block_trades"]), f"{p}BlockQuantity": int(r["block_shares"]),
            "averageBlockSize": round(float(r["avg_block"]), 2),
            "summaryTypeCode": r["category"], "summaryTypeDescription": fm.BLOCK_CATEGORIES[r["category"]],
            "lastUpdateDate": due, "initialPublishedDate": due, "lastReportedDate": _last_trading_day(month).isoformat(),
            "atsOtc": kind,
        }
        for name in dataset.fields:
            if name not in record:
                value = r[name]
                record[name] = int(value) if name.endswith("Rank") else float(value)
        out.append(record)
    return out


# -- a FINRA Query API stand-in -----------------------------------------------------------------------
def records_for(dataset_name: str, filters: dict[str, str], config: WeeklyConfig) -> list[dict]:
    month = date.fromisoformat(filters["monthStartDate"])
    if dataset_name == fm.ATS_BLOCKS.api_name:
        return block_records(month, "ATS", config)
    if dataset_name == fm.OTC_BLOCKS.api_name:
        return block_records(month, "OTC", config)
    if dataset_name == fm.MONTHLY_SUMMARY.api_name:
        return monthly_summary_records(month, filters["tierIdentifier"], config)
    raise ValueError(f"the synthetic monthly source does not serve dataset {dataset_name!r}")


def write_monthly(root: Path, month: date, config: WeeklyConfig = WeeklyConfig(), page_size: int = 5000) -> dict:
    """Write every monthly dataset partition of ``month`` in replay layout; returns rows per dataset."""
    counts = {}
    for dataset in fm.DATASETS:
        for tier in dataset.partitions(month):
            filters = dataset.api_filters(month, tier)
            records = records_for(dataset.api_name, filters, config)
            pages = [json.dumps(records[i:i + page_size], separators=(",", ":")).encode()
                     for i in range(0, len(records), page_size)]
            write_replay_partition(root, dataset.api_name, filters, pages=pages)
            counts[dataset.api_name] = counts.get(dataset.api_name, 0) + len(records)
    return counts


class SyntheticFinraMonthlyClient:
    """Writes a month's partitions of all three monthly datasets on first request, then replays them."""

    def __init__(self, root: Path, config: WeeklyConfig = WeeklyConfig()):
        self.root = Path(root)
        self.config = config
        self.replay = FinraReplayClient(self.root)

    def fetch_partition(self, dataset: str, filters: dict[str, str]):
        if not (self.replay.partition_dir(dataset, filters) / "response.json").is_file():
            write_monthly(self.root, date.fromisoformat(filters["monthStartDate"]), self.config)
        return self.replay.fetch_partition(dataset, filters)
