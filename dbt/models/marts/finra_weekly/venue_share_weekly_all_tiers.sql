{{ config(
    materialized='incremental',
    incremental_strategy='append',
    tags=['finra_weekly'],
    pre_hook="{% if is_incremental() %}delete from {{ this }} where week_start_date >= date '{{ run_var('week_start') }}' and week_start_date < date '{{ run_var('week_end') }}'{% endif %}"
) }}
-- Venue share over all tiers combined. Provisional (is_complete = false) until every tier of the week is
-- published: Tier 1 arrives two weeks before Tiers 2 and OTC, and Tier 1 alone misstates venue share.
with venue_tiers as (
    select *
    from {{ ref('venue_share_weekly') }}
    {% if is_incremental() %}
    where week_start_date >= date '{{ run_var("week_start") }}' and week_start_date < date '{{ run_var("week_end") }}'
    {% endif %}
),

published as (
    select week_start_date, venue_kind, count(distinct tier) as tiers_published,
           string_agg(distinct tier, ',' order by tier) as tiers_published_list
    from {{ ref('int_finra_weekly_current_versions') }}
    group by 1, 2
),

combined as (
    select
        week_start_date,
        venue_kind,
        mpid,
        max(venue_name)                                                   as venue_name,
        bool_or(is_de_minimis)                                            as is_de_minimis,
        coalesce(sum(share_quantity) filter (where tier = 'T1'), 0)       as share_quantity_t1,
        coalesce(sum(share_quantity) filter (where tier = 'T2'), 0)       as share_quantity_t2,
        coalesce(sum(share_quantity) filter (where tier = 'OTCE'), 0)     as share_quantity_otce,
        sum(share_quantity)                                               as share_quantity,
        sum(trade_count)                                                  as trade_count
    from venue_tiers
    group by 1, 2, 3
)

select
    c.week_start_date,
    c.venue_kind,
    c.mpid,
    c.venue_name,
    c.is_de_minimis,
    c.share_quantity_t1,
    c.share_quantity_t2,
    c.share_quantity_otce,
    c.share_quantity,
    c.trade_count,
    cast(c.share_quantity as double) / nullif(c.trade_count, 0)                                                  as avg_trade_size,
    cast(c.share_quantity as double) / nullif(sum(c.share_quantity) over (partition by c.week_start_date, c.venue_kind), 0) as combined_share,
    cast(rank() over (partition by c.week_start_date, c.venue_kind order by c.share_quantity desc) as integer)        as combined_rank,
    coalesce(p.tiers_published, 0)                                                                               as tiers_published,
    p.tiers_published_list,
    coalesce(p.tiers_published, 0) = 3                                                                           as is_complete
from combined as c
left join published as p using (week_start_date, venue_kind)
