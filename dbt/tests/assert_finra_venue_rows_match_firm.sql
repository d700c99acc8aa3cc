-- Consistent totals: per (week, tier, kind, venue) the symbol x venue rows add up to FINRA's per-venue row
-- wherever the per-venue grain (ATS_W_FIRM / OTC_W_FIRM) is present.
-- Checks the run window's weeks and tiers, reading only their lake files (everything when the run covers everything:
-- macros/run_window.sql, macros/finra_weekly.sql).
{{ config(meta={'dagster': {'ref': {'name': 'int_finra_weekly_current'}}}) }}
{%- set current = finra_weekly_current_in_window() %}
with detail as (
    select week_start_date, tier, venue_kind, venue_id, sum(share_quantity) as shares, sum(trade_count) as trades
    from {{ current }}
    where summary_type_code like '%_W_SMBL_FIRM'
      and {{ finra_weekly_window() }}
    group by all
),
firm as (
    select week_start_date, tier, venue_kind, venue_id, share_quantity as shares, trade_count as trades
    from {{ current }}
    where summary_type_code in ('ATS_W_FIRM', 'OTC_W_FIRM')
      and {{ finra_weekly_window() }}
)
select f.*, d.shares as detail_shares, d.trades as detail_trades
from firm as f
left join detail as d using (week_start_date, tier, venue_kind, venue_id)
where d.shares is null or f.shares <> d.shares or f.trades <> d.trades
