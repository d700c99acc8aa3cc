{%- set lookback_start = "date '" ~ var('week_start') ~ "' - interval 7 day" -%}
{%- set window_end = "date '" ~ var('week_end') ~ "' + interval 7 day" -%}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    tags=['finra_weekly'],
    pre_hook="{% if is_incremental() %}delete from {{ this }} where week_start_date >= date '{{ var('week_start') }}' and week_start_date < date '{{ var('week_end') }}' + interval 7 day and tier in {{ tiers_list() }}{% endif %}"
) }}
-- Per symbol and week: ATS vs non-ATS off-exchange volume, venue concentration and week-over-week change.
-- A rebuilt week also rebuilds the following week, whose week-over-week change depends on it.
with rows as (
    select *
    from {{ ref('int_finra_weekly_current') }}
    where summary_type_code in ('ATS_W_SMBL_FIRM', 'OTC_W_SMBL_FIRM')
      and symbol is not null
    {% if is_incremental() %}
      and week_start_date >= {{ lookback_start }} and week_start_date < {{ window_end }}
      and tier in {{ tiers_list() }}
    {% endif %}
),

by_venue as (
    select week_start_date, tier, symbol, venue_kind, venue_id, is_de_minimis,
           sum(share_quantity) as share_quantity, sum(trade_count) as trade_count
    from rows
    group by all
),

attributable as (
    -- De Minimis Firms is a bucket of many firms: it counts in volumes, not in concentration.
    select *,
           cast(share_quantity as double) / nullif(sum(share_quantity) over (partition by week_start_date, tier, symbol), 0) as venue_fraction,
           row_number() over (partition by week_start_date, tier, symbol order by share_quantity desc, venue_id) as venue_order
    from by_venue
    where not is_de_minimis
),

concentration as (
    select week_start_date, tier, symbol,
           count(*) filter (where venue_kind = 'ATS')   as ats_venue_count,
           count(*) filter (where venue_kind = 'OTC')   as otc_firm_count,
           sum(venue_fraction * venue_fraction)          as venue_hhi,
           max(venue_id) filter (where venue_order = 1) as top_venue,
           max(venue_fraction) filter (where venue_order = 1) as top_venue_share
    from attributable
    group by 1, 2, 3
),

totals as (
    select week_start_date, tier, symbol,
           max(issue_name)                                                        as issue_name,
           coalesce(sum(share_quantity) filter (where venue_kind = 'ATS'), 0)     as ats_share_quantity,
           coalesce(sum(trade_count) filter (where venue_kind = 'ATS'), 0)        as ats_trade_count,
           coalesce(sum(share_quantity) filter (where venue_kind = 'OTC'), 0)     as otc_share_quantity,
           coalesce(sum(trade_count) filter (where venue_kind = 'OTC'), 0)        as otc_trade_count
    from rows
    group by 1, 2, 3
),

weekly as (
    select
        t.week_start_date,
        t.tier,
        t.symbol,
        t.issue_name,
        t.ats_share_quantity,
        t.ats_trade_count,
        t.otc_share_quantity,
        t.otc_trade_count,
        t.ats_share_quantity + t.otc_share_quantity                                          as offexchange_share_quantity,
        t.ats_trade_count + t.otc_trade_count                                                as offexchange_trade_count,
        cast(t.ats_share_quantity as double) / nullif(t.ats_share_quantity + t.otc_share_quantity, 0) as ats_fraction,
        coalesce(c.ats_venue_count, 0)                                                       as ats_venue_count,
        coalesce(c.otc_firm_count, 0)                                                        as otc_firm_count,
        coalesce(c.ats_venue_count, 0) + coalesce(c.otc_firm_count, 0)                       as venue_count,
        c.top_venue,
        c.top_venue_share,
        c.venue_hhi
    from totals as t
    left join concentration as c using (week_start_date, tier, symbol)
),

with_change as (
    select
        w.*,
        w.ats_fraction - p.ats_fraction                                                      as ats_fraction_change_wow,
        cast(w.offexchange_share_quantity as double) / nullif(p.offexchange_share_quantity, 0) - 1 as offexchange_volume_change_wow
    from weekly as w
    left join weekly as p
        on p.symbol = w.symbol and p.tier = w.tier and p.week_start_date = w.week_start_date - interval 7 day
)

select *
from with_change
{% if is_incremental() %}
where week_start_date >= date '{{ var("week_start") }}'
{% endif %}
