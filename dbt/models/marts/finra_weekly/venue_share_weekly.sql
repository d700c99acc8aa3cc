{{ config(
    materialized='incremental',
    incremental_strategy='append',
    tags=['finra_weekly'],
    pre_hook="{% if is_incremental() %}delete from {{ this }} where week_start_date >= date '{{ run_var('week_start') }}' and week_start_date < date '{{ run_var('week_end') }}' and tier in {{ tiers_list() }}{% endif %}"
) }}
-- Venue market share per week, tier and venue kind, from the symbol x venue rows (ATS_W_SMBL_FIRM / OTC_W_SMBL_FIRM).
-- An incremental run reads only its window's lake files (macros/finra_weekly.sql).
with rows as (
    select *
    from {{ finra_weekly_current_in_window(narrow=is_incremental()) }}
    where summary_type_code in ('ATS_W_SMBL_FIRM', 'OTC_W_SMBL_FIRM')
    {% if is_incremental() %}
      and week_start_date >= date '{{ run_var("week_start") }}' and week_start_date < date '{{ run_var("week_end") }}'
      and tier in {{ tiers_list() }}
    {% endif %}
),

venues as (
    select
        week_start_date,
        tier,
        venue_kind,
        venue_id                               as mpid,
        max(participant_name)                  as venue_name,
        max(firm_crd)                          as firm_crd,
        bool_or(is_de_minimis)                 as is_de_minimis,
        sum(share_quantity)                    as share_quantity,
        sum(trade_count)                       as trade_count,
        count(distinct symbol)                 as symbol_count,
        max(last_update_date)                  as source_last_update_date,
        max(due_date)                          as due_date
    from rows
    group by 1, 2, 3, 4
)

select
    week_start_date,
    tier,
    venue_kind,
    mpid,
    venue_name,
    firm_crd,
    is_de_minimis,
    share_quantity,
    trade_count,
    symbol_count,
    cast(share_quantity as double) / nullif(trade_count, 0)                                          as avg_trade_size,
    cast(share_quantity as double) / nullif(sum(share_quantity) over (partition by week_start_date, tier, venue_kind), 0) as venue_share,
    cast(trade_count as double) / nullif(sum(trade_count) over (partition by week_start_date, tier, venue_kind), 0)       as trade_share,
    cast(rank() over (partition by week_start_date, tier, venue_kind order by share_quantity desc) as integer)           as venue_rank,
    source_last_update_date,
    due_date
from venues
