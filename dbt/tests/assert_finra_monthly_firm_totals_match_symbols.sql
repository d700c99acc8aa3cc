-- monthlySummary grains agree: per (month, tier, firm) the symbol x firm rows add up to the firm row (OTC_M_FIRM,
-- which non_ats_firm_monthly uses), and per (month, tier, symbol) to the symbol row (OTC_M_SMBL).
with detail as (
    select * from {{ ref('int_finra_monthly_summary_current') }} where summary_type_code = 'OTC_M_SMBL_FIRM'
),
by_firm as (
    select month_start_date, tier, firm_name as key, sum(share_quantity) as shares, sum(trade_count) as trades
    from detail group by all
),
by_symbol as (
    select month_start_date, tier, symbol as key, sum(share_quantity) as shares, sum(trade_count) as trades
    from detail group by all
),
published as (
    select month_start_date, tier, summary_type_code,
           case when summary_type_code = 'OTC_M_FIRM' then firm_name else symbol end as key,
           share_quantity as shares, trade_count as trades
    from {{ ref('int_finra_monthly_summary_current') }}
    where summary_type_code in ('OTC_M_FIRM', 'OTC_M_SMBL')
)
select p.*, coalesce(f.shares, s.shares) as detail_shares, coalesce(f.trades, s.trades) as detail_trades
from published as p
left join by_firm as f
    on p.summary_type_code = 'OTC_M_FIRM' and f.month_start_date = p.month_start_date and f.tier = p.tier and f.key = p.key
left join by_symbol as s
    on p.summary_type_code = 'OTC_M_SMBL' and s.month_start_date = p.month_start_date and s.tier = p.tier and s.key = p.key
where coalesce(f.shares, s.shares) is null
   or p.shares <> coalesce(f.shares, s.shares)
   or p.trades <> coalesce(f.trades, s.trades)
