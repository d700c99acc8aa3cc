{%- set lookback_start = "date '" ~ run_var('week_start') ~ "' - interval 7 day" -%}
{%- set window_end = "date '" ~ run_var('week_end') ~ "' + interval 7 day" -%}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    tags=['finra_weekly'],
    pre_hook="{% if is_incremental() %}delete from {{ this }} where week_start_date >= date '{{ run_var('week_start') }}' and week_start_date < date '{{ run_var('week_end') }}' + interval 7 day and tier in {{ tiers_list() }}{% endif %}"
) }}
-- Per symbol and week: ATS vs non-ATS off-exchange volume, venue concentration and week-over-week change.
-- A rebuilt week also rebuilds the following week, whose week-over-week change depends on it.
-- One pass over the symbol x venue rows: totals per symbol straight from the rows; concentration from the per-venue
-- sums alone (sum of squared venue quantities, largest venue), divided by the symbol's attributable total only once per
-- symbol, so the per-venue rows are never joined back to their symbol. An incremental run reads only the lake files of
-- its window, the week before and the week after (macros/finra_weekly.sql).
with rows as (
    select week_start_date, tier, symbol, issue_name, venue_kind, venue_id, is_de_minimis, share_quantity, trade_count
    from {{ finra_weekly_current_in_window(preceding_weeks=1, following_weeks=1, narrow=is_incremental()) }}
    where summary_type_code in ('ATS_W_SMBL_FIRM', 'OTC_W_SMBL_FIRM')
      and symbol is not null
    {% if is_incremental() %}
      and week_start_date >= {{ lookback_start }} and week_start_date < {{ window_end }}
      and tier in {{ tiers_list() }}
    {% endif %}
),

totals as (
    select week_start_date, tier, symbol,
           max(issue_name)                                                        as issue_name,
           coalesce(sum(share_quantity) filter (where venue_kind = 'ATS'), 0)     as ats_share_quantity,
           coalesce(sum(trade_count) filter (where venue_kind = 'ATS'), 0)        as ats_trade_count,
           coalesce(sum(share_quantity) filter (where venue_kind = 'OTC'), 0)     as otc_share_quantity,
           coalesce(sum(trade_count) filter (where venue_kind = 'OTC'), 0)        as otc_trade_count,
           -- De Minimis Firms is a bucket of many firms: it counts in volumes, not in concentration.
           sum(share_quantity) filter (where not is_de_minimis)                   as attributable_share_quantity
    from rows
    group by week_start_date, tier, symbol
),

attributable as (
    select week_start_date, tier, symbol, venue_kind, venue_id, sum(share_quantity) as share_quantity
    from rows
    where not is_de_minimis
    group by week_start_date, tier, symbol, venue_kind, venue_id
),

-- Every venue of the run in venue_id order, so that one number can order venues by quantity and then venue_id.
venue_order as (
    select venue_id, row_number() over (order by venue_id) as venue_order
    from (select distinct venue_id from rows where not is_de_minimis)
),

concentration as (
    select a.week_start_date, a.tier, a.symbol,
           count(*) filter (where a.venue_kind = 'ATS')   as ats_venue_count,
           count(*) filter (where a.venue_kind = 'OTC')   as otc_firm_count,
           -- HHI = sum of squared venue quantities / total squared. The squares are summed exactly (quantities in
           -- millionths of a share as HUGEINT), so the index does not depend on the order rows arrive in.
           sum(cast(a.share_quantity * 1000000 as hugeint) * cast(a.share_quantity * 1000000 as hugeint)) as sum_of_squares,
           -- the largest venue, ties to the first venue_id: 4x faster than arg_min over a (quantity, venue_id) struct
           arg_max(a.venue_id, cast(a.share_quantity * 1000000 as hugeint) * 1000000000 - coalesce(o.venue_order, 0)) as top_venue,
           max(a.share_quantity)                            as top_venue_share_quantity
    from attributable as a
    left join venue_order as o using (venue_id)
    group by a.week_start_date, a.tier, a.symbol
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
        cast(c.top_venue_share_quantity as double) / nullif(t.attributable_share_quantity, 0)             as top_venue_share,
        cast(c.sum_of_squares as double)
            / nullif(cast(t.attributable_share_quantity * 1000000 as double) ** 2, 0)                     as venue_hhi
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
where week_start_date >= date '{{ run_var("week_start") }}'
{% endif %}
