{{ config(
    materialized='incremental',
    incremental_strategy='append',
    tags=['finra_monthly'],
    pre_hook="{% if is_incremental() %}delete from {{ this }} where month_start_date >= date '{{ run_var('month_start') }}' and month_start_date < date '{{ run_var('month_end') }}'{% endif %}"
) }}
-- Block-size activity per month, venue kind, venue and block category (FINRA Regulatory Notice 19-29 data):
-- shares, market share and business share computed here from FINRA's raw counts, beside FINRA's own published
-- percents (as fractions) and ranks for reconciliation.
with rows as (
    select *
    from {{ ref('int_finra_blocks_current') }}
    {% if is_incremental() %}
    where month_start_date >= date '{{ run_var("month_start") }}' and month_start_date < date '{{ run_var("month_end") }}'
    {% endif %}
),

measured as (
    select
        *,
        cast(block_share_quantity as double) / nullif(block_trade_count, 0)                                  as avg_block_size,
        cast(block_share_quantity as double)
            / nullif(sum(block_share_quantity) over (partition by month_start_date, venue_kind, block_category), 0) as block_market_share,
        cast(block_share_quantity as double) / nullif(total_share_quantity, 0)                               as block_business_share
    from rows
)

select
    month_start_date,
    venue_kind,
    mpid,
    venue_name,
    is_de_minimis,
    block_category,
    block_category_description,
    block_trade_count,
    block_share_quantity,
    avg_block_size,
    total_trade_count,
    total_share_quantity,
    block_market_share,
    block_business_share,
    cast(rank() over w_cat_trades as integer)                                                              as block_trade_rank,
    cast(rank() over (partition by month_start_date, venue_kind, block_category order by block_share_quantity desc) as integer) as block_share_rank,
    cast(rank() over (partition by month_start_date, venue_kind, block_category order by coalesce(avg_block_size, 0) desc) as integer) as avg_block_size_rank,
    cast(rank() over (partition by month_start_date, venue_kind, block_category order by coalesce(block_business_share, 0) desc) as integer) as block_business_share_rank,
    finra_percent_scale,
    finra_block_market_share,
    finra_block_business_share,
    finra_block_trade_rank,
    finra_block_share_rank,
    finra_avg_block_size_rank,
    finra_block_business_share_rank,
    due_date
from measured
window w_cat_trades as (partition by month_start_date, venue_kind, block_category order by block_trade_count desc)
