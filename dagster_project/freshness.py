"""How stale each raw asset may get before the Dagster UI flags it, from its source's publication cadence.

The windows are the source's cadence plus its usual slack (holidays, late postings); the per-partition
question "is a due partition missing?" is answered by the publication calendar (`dealerflow status`,
the availability sensor). Evaluated when ``freshness: enabled`` is set in dagster.yaml (instance.py does).
"""

from datetime import timedelta

import dagster as dg

DAY = timedelta(days=1)

#: raw asset -> (warn after, fail after) without a new materialization.
WINDOWS: dict[tuple[str, ...], tuple[timedelta, timedelta]] = {
    ("raw", "finra_weekly"): (8 * DAY, 15 * DAY),            # a new (week, tier) every Monday
    ("raw", "finra_ats_blocks"): (35 * DAY, 45 * DAY),       # monthly, one month after month end
    ("raw", "finra_otc_blocks"): (35 * DAY, 45 * DAY),
    ("raw", "finra_monthly_summary"): (35 * DAY, 45 * DAY),
    ("raw", "regsho_daily"): (4 * DAY, 6 * DAY),             # every trading day by 18:00 ET
    ("raw", "short_interest"): (17 * DAY, 25 * DAY),         # twice a month, 7 business days after settlement
    ("raw", "sec_ftd"): (20 * DAY, 30 * DAY),                # twice a month, about two weeks after the half-month
    ("raw", "options_chain"): (4 * DAY, 6 * DAY),            # every trading day after the close
    ("raw", "occ_volume"): (4 * DAY, 6 * DAY),
    ("raw", "occ_series"): (4 * DAY, 6 * DAY),
    ("derived", "gex"): (4 * DAY, 6 * DAY),
}


def with_freshness(assets: list) -> list:
    """The assets with each raw/derived asset's freshness policy applied (others unchanged)."""

    def apply(spec: dg.AssetSpec) -> dg.AssetSpec:
        windows = WINDOWS.get(tuple(spec.key.path))
        if windows is None:
            return spec
        warn, fail = windows
        return dg.apply_freshness_policy(spec, dg.FreshnessPolicy.time_window(fail_window=fail, warn_window=warn))

    return list(dg.map_asset_specs(apply, assets))
