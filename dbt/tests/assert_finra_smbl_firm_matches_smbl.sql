-- Consistent totals: per (week, tier, kind, symbol) the symbol x venue rows add up to FINRA's per-symbol row,
-- wherever both grains are present in the current version (imported download files carry only SMBL_FIRM).
-- Checks the run window's weeks and tiers, reading only their lake files (everything when the run covers everything:
-- macros/run_window.sql, macros/finra_weekly.sql).
{{ config(meta={'dagster': {'ref': {'name': 'int_finra_weekly_current'}}}) }}
{%- set current = finra_weekly_current_in_window() %}
with detail as (
    select week_start_date, tier, venue_kind, symbol, sum(share_quantity) as shares, sum(trade_count) as trades
    from {{ current }}
    where summary_type_code like '%_W_SMBL_FIRM' and symbol is not null
      and {{ finra_weekly_window() }}
    group by all
),
summary as (
    select week_start_date, tier, venue_kind, symbol, share_quantity as shares, trade_count as trades
    from {{ current }}
    where summary_type_code in ('ATS_W_SMBL', 'OTC_W_SMBL')
      and {{ finra_weekly_window() }}
)
select s.*, d.shares as detail_shares, d.trades as detail_trades
from summary as s
join detail as d using (week_start_date, tier, venue_kind, symbol)
where s.shares <> d.shares or s.trades <> d.trades
