"""Synthetic FINRA weekly OTC transparency data, written as Query API pages in the replay layout.

Deterministic by seed. The universe is realistic in shape: ~33 ATSs with real MPIDs, non-ATS
firms including the unattributable ``De Minimis Firms`` line (CRD 0), thousands of symbols per tier
with heavy-tailed volume, per-venue average trade sizes from retail-sized to block venues, and a
few fractional share quantities. Every grain is emitted and is exactly consistent: ``*_SMBL`` rows are
the sums of ``*_SMBL_FIRM`` rows per symbol and ``*_FIRM`` rows the sums per venue.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.publication_calendar import NON_ATS_FIRST_WEEK, finra_weekly_due, finra_weekly_partitions
from dagster_project.sources.finra_api import write_replay_partition

# (MPID, name, average trade size in shares, relative popularity)
NMS_ATS = [
    ("INCR", "INTELLIGENTCROSS LLC", 180, 16.0), ("UBSA", "UBS ATS", 190, 13.0), ("MSPL", "MS POOL (ATS-4)", 210, 11.0),
    ("SGMT", "SIGMA X2", 170, 8.6), ("EBXL", "LEVEL ATS", 160, 7.6), ("BIDS", "BIDS ATS", 3500, 5.3),
    ("PURE", "PURESTREAM", 9000, 3.7), ("JPMX", "JPM-X", 190, 3.3), ("CGXS", "ONECHRONOS", 150, 3.0),
    ("IATS", "IBKR ATS", 120, 2.8), ("LATS", "BARCLAYS LX", 200, 2.5), ("MLIX", "INSTINCT X", 210, 2.4),
    ("ICBX", "INSTINET CONTINUOUS BLOCK CROSSING SYSTEM (CBX)", 230, 2.0), ("KCGM", "VIRTU MATCHIT", 170, 1.9),
    ("DBAX", "SUPERX ATS", 180, 1.5), ("XSTM", "CROSSSTREAM", 260, 1.2), ("LQNA", "LIQUIDNET ATS", 25000, 1.2),
    ("LMNX", "LUMINEX TRADING & ANALYTICS LLC", 30000, 1.0), ("MSTX", "MS TRAJECTORY CROSS (ATS-1)", 300, 1.0),
    ("CXCX", "CITI CROSS", 200, 0.9), ("GSCO", "GOLDMAN SACHS BASKET CROSS", 400, 0.6), ("TWSS", "TWO SIGMA ATS", 150, 0.6),
    ("JPBX", "JPB-X", 5000, 0.5), ("PDQX", "CODA MARKETS ATS", 200, 0.5), ("BLKX", "BLOCKCROSS ATS", 20000, 0.4),
    ("AQUA", "AQUA SECURITIES ATS", 15000, 0.3), ("WDNX", "XE", 150, 0.3), ("NYFX", "MILLENNIUM", 200, 0.3),
    ("CBLC", "CITIBLOC", 8000, 0.2), ("BTFI", "BLUE OCEAN ATS", 120, 0.2),
]
OTC_ATS = [
    ("OTCX", "OTC LINK ECN", 2500, 40.0), ("OTCN", "OTC LINK NQB", 3000, 10.0), ("PPEX", "PPEX NORTH CAPITAL PRIVATE SECURITIES EXCHANGE", 500, 3.0),
    ("PROS", "PROSPECTOR ATS", 800, 2.0), ("ALTS", "ALTSX", 400, 1.0), ("SWCL", "SPRING WATER CAPITAL ATS", 600, 1.0),
    ("STEN", "STENTOR ATS", 700, 0.5), ("SMKT", "SMARTMARKET ATS", 500, 0.5),
]
NON_ATS = [
    ("CITADEL SECURITIES LLC", 116797, 250, 30.0), ("VIRTU AMERICAS, LLC", 149823, 240, 18.0),
    ("G1 EXECUTION SERVICES, LLC", 111528, 230, 8.0), ("JANE STREET CAPITAL, LLC", 103782, 300, 8.0),
    ("HRT FINANCIAL LP", 285284, 220, 6.0), ("TWO SIGMA SECURITIES, LLC", 153555, 210, 4.0),
    ("UBS SECURITIES LLC", 7654, 400, 3.0), ("GOLDMAN SACHS & CO. LLC", 361, 800, 3.0),
    ("MORGAN STANLEY & CO. LLC", 8209, 700, 3.0), ("J.P. MORGAN SECURITIES LLC", 79, 700, 2.5),
    ("BOFA SECURITIES, INC.", 283942, 600, 2.0), ("INTERACTIVE BROKERS LLC", 36418, 150, 1.5),
    ("WOLVERINE EXECUTION SERVICES, LLC", 110358, 300, 1.0), ("RBC CAPITAL MARKETS, LLC", 31194, 900, 1.0),
    ("JONESTRADING INSTITUTIONAL SERVICES LLC", 15489, 1200, 0.8), ("DE MINIMIS FIRMS", 0, 200, 12.0),
]
DE_MINIMIS_NAME = "De Minimis Firms"
HEAD_SYMBOLS = {
    "T1": ["SPY", "QQQ", "AAPL", "NVDA", "TSLA", "MSFT", "AMZN", "AMD", "META", "IWM", "GOOGL", "PLTR", "F", "BAC", "INTC"],
    "T2": ["SOUN", "RGTI", "QUBT", "LAZR", "OPEN", "ACHR", "JOBY", "IONQ"],
    "OTCE": ["TSNP", "HCMC", "AITX", "ILUS", "ENZC", "GTEH"],
}
SYMBOLS_AT_SCALE_1 = {"T1": 1600, "T2": 6000, "OTCE": 10000}
TIER_DESCRIPTION = {"T1": "NMS Tier 1", "T2": "NMS Tier 2", "OTCE": "OTCE"}


@dataclass(frozen=True)
class WeeklyConfig:
    seed: int = 20240101
    scale: float = 0.05  # fraction of the realistic symbol universe (1.0 ≈ 150k rows per T1/T2 week)


def _tier_seed(seed: int, tier: str) -> int:
    return seed * 31 + sum(ord(c) for c in tier) * 7919


def universe(tier: str, config: WeeklyConfig) -> pd.DataFrame:
    """Symbols of a tier with a stable heavy-tailed base weekly off-exchange volume (shares)."""
    rng = np.random.default_rng(_tier_seed(config.seed, tier))
    head = HEAD_SYMBOLS[tier]
    n = max(len(head) + 5, int(round(SYMBOLS_AT_SCALE_1[tier] * config.scale)))
    letters = np.array(list(string.ascii_uppercase))
    taken = set(head)
    for other in HEAD_SYMBOLS:
        taken.update(HEAD_SYMBOLS[other])
    symbols = list(head)
    # Tiers never share a symbol: random tickers are 3 letters in T1, 4 in T2 and 5 in OTC equities.
    length = {"T1": 3, "T2": 4, "OTCE": 5}[tier]
    while len(symbols) < n:
        candidate = "".join(rng.choice(letters, length))
        if candidate not in taken:
            taken.add(candidate)
            symbols.append(candidate)
    scale_by_tier = {"T1": 4e6, "T2": 3e5, "OTCE": 2e5}[tier]
    base = np.sort(rng.pareto(1.2, n) + 1.0)[::-1] * scale_by_tier
    base[: len(head)] = np.linspace(1.2e9, 2.5e8, len(head)) if tier == "T1" else base[: len(head)] * 20
    names = [f"{s} {'Inc. Common Stock' if i % 3 else 'Corp.'}" for i, s in enumerate(symbols)]
    product = rng.choice(["UTP", "CTS"], n) if tier != "OTCE" else np.array(["OTCE"] * n)
    return pd.DataFrame({"symbol": symbols, "issue_name": names, "base_volume": base, "product": product})


def _venues(tier: str, kind: str) -> list[tuple]:
    if kind == "ATS":
        venues = OTC_ATS if tier == "OTCE" else NMS_ATS
        return [(mpid, name, 100000 + i * 137, size, pop) for i, (mpid, name, size, pop) in enumerate(venues)]
    return [(None, DE_MINIMIS_NAME if crd == 0 else name, crd, size, pop) for name, crd, size, pop in NON_ATS]


def week_records(week: date, tier: str, config: WeeklyConfig) -> pd.DataFrame:
    """All rows FINRA would publish for one (week, tier): every grain, exactly consistent."""
    uni = universe(tier, config)
    rng = np.random.default_rng([config.seed, week.toordinal(), sum(map(ord, tier))])
    due = finra_weekly_due(week, tier)
    frames = []
    kinds = ("ATS", "OTC") if week >= NON_ATS_FIRST_WEEK else ("ATS",)
    week_factor = rng.lognormal(0.0, 0.15, len(uni))
    for kind in kinds:
        venues = _venues(tier, kind)
        pop = np.array([v[4] for v in venues])
        share = pop / pop.sum()
        liquidity = np.clip(np.log10(uni["base_volume"].to_numpy()) / 9.0, 0.1, 1.0)
        present = rng.random((len(uni), len(venues))) < np.clip(share[None, :] * 8 + liquidity[:, None] * 0.5, 0.02, 0.98)
        weights = np.where(present, share[None, :] * rng.lognormal(0.0, 0.6, present.shape), 0.0)
        otc_multiple = 2.2 * rng.lognormal(0.0, 0.2, len(uni))
        totals = uni["base_volume"].to_numpy() * week_factor * (1.0 if kind == "ATS" else otc_multiple)
        weights_sum = weights.sum(axis=1, keepdims=True)
        weights_sum[weights_sum == 0] = 1.0
        shares = np.floor(totals[:, None] * weights / weights_sum)
        present &= shares >= 1
        si, vi = np.nonzero(present)
        qty = shares[si, vi]
        halves = rng.random(len(qty)) < 0.02
        qty = qty + np.where(halves, 0.5, 0.0)  # FINRA publishes some fractional quantities
        sizes = np.array([v[3] for v in venues])[vi] * rng.lognormal(0.0, 0.25, len(qty))
        trades = np.maximum(1, np.round(qty / sizes)).astype(np.int64)
        frames.append(pd.DataFrame({
            "kind": kind, "symbol": uni["symbol"].to_numpy()[si], "issue_name": uni["issue_name"].to_numpy()[si],
            "product": uni["product"].to_numpy()[si], "mpid": [venues[v][0] for v in vi],
            "venue_name": [venues[v][1] for v in vi], "crd": np.array([v[2] for v in venues])[vi],
            "qty": qty, "trades": trades,
        }))
    detail = pd.concat(frames, ignore_index=True)
    by_symbol = detail.groupby(["kind", "symbol", "issue_name", "product"], as_index=False)[["qty", "trades"]].sum()
    by_venue = detail.groupby(["kind", "venue_name", "crd"], as_index=False, dropna=False).agg(
        qty=("qty", "sum"), trades=("trades", "sum"), mpid=("mpid", "first"))
    detail["grain"], by_symbol["grain"], by_venue["grain"] = "SMBL_FIRM", "SMBL", "FIRM"
    rows = pd.concat([detail, by_symbol, by_venue], ignore_index=True)
    out = pd.DataFrame({
        "weekStartDate": week.isoformat(),
        "tierIdentifier": tier,
        "tierDescription": TIER_DESCRIPTION[tier],
        "summaryTypeCode": rows["kind"] + "_W_" + rows["grain"],
        "issueSymbolIdentifier": rows["symbol"],
        "issueName": rows["issue_name"],
        "MPID": rows["mpid"],
        "firmCRDNumber": rows["crd"].astype("Int64"),
        "marketParticipantName": rows["venue_name"],
        "productTypeCode": rows["product"],
        "summaryStartDate": week.isoformat(),
        "totalWeeklyShareQuantity": rows["qty"],
        "totalWeeklyTradeCount": rows["trades"].astype(np.int64),
        "lastUpdateDate": due.isoformat(),
        "initialPublishedDate": due.isoformat(),
        "lastReportedDate": (week + timedelta(days=4)).isoformat(),
    })
    return out


def records_to_pages(frame: pd.DataFrame, page_size: int = 5000) -> list[bytes]:
    """Serialise rows as Query API JSON pages; whole share quantities print as integers, like FINRA's."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("f", frame)
        qty = 'case when "totalWeeklyShareQuantity" = floor("totalWeeklyShareQuantity") ' \
              'then cast(cast("totalWeeklyShareQuantity" as bigint) as varchar) else cast("totalWeeklyShareQuantity" as varchar) end'
        cols = [c for c in frame.columns if c != "totalWeeklyShareQuantity"]
        lines = con.execute(
            f"select to_json(struct_pack({', '.join(f'{chr(34)}{c}{chr(34)} := {chr(34)}{c}{chr(34)}' for c in cols)})) as j, "
            f"{qty} as q from f").fetchall()
    finally:
        con.close()
    # Splice the quantity in as a bare JSON number (to_json would quote or float-format it).
    records = [j[:-1] + f',"totalWeeklyShareQuantity":{q}}}' for j, q in lines]
    return [("[" + ",".join(records[i:i + page_size]) + "]").encode() for i in range(0, len(records), page_size)] or [b"[]"]


def write_weekly(root: Path, start: date, end: date, tiers=("T1", "T2", "OTCE"), config: WeeklyConfig = WeeklyConfig(),
                 page_size: int = 5000) -> dict:
    """Write every (week, tier) in [start, end] as replay pages; returns counts."""
    partitions = rows = 0
    for part in finra_weekly_partitions(start, end, tiers):
        frame = week_records(part.week_start, part.tier, config)
        pages = records_to_pages(frame, page_size)
        write_replay_partition(root, "weeklySummary",
                               {"weekStartDate": part.week_start.isoformat(), "tierIdentifier": part.tier}, pages=pages,
                               record_total=len(frame))
        partitions += 1
        rows += len(frame)
    return {"partitions": partitions, "rows": rows}


class SyntheticFinraClient:
    """A FINRA Query API stand-in: writes a (week, tier) partition's pages on first request, then replays them."""

    def __init__(self, root: Path, config: WeeklyConfig = WeeklyConfig()):
        from dagster_project.sources.finra_api import FinraReplayClient

        self.root = Path(root)
        self.config = config
        self.replay = FinraReplayClient(self.root)

    def fetch_partition(self, dataset: str, filters: dict[str, str]):
        pdir = self.replay.partition_dir(dataset, filters)
        if not (pdir / "response.json").is_file():
            week, tier = date.fromisoformat(filters["weekStartDate"]), filters["tierIdentifier"]
            records = week_records(week, tier, self.config)
            write_replay_partition(self.root, "weeklySummary", filters, pages=records_to_pages(records),
                                   record_total=len(records))
        return self.replay.fetch_partition(dataset, filters)

    def available_partitions(self, dataset: str) -> list[dict[str, str]]:
        """What the synthetic FINRA 'publishes': every (week, tier) of the last 120 days due by today."""
        from dagster_project.publication_calendar import finra_weekly_published

        return [{"weekStartDate": p.week_start.isoformat(), "tierIdentifier": p.tier}
                for p in finra_weekly_published(date.today(), start=date.today() - timedelta(days=120))]
