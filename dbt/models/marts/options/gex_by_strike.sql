{{ config(
    materialized='incremental',
    incremental_strategy='append',
    tags=['options'],
    pre_hook="{% if is_incremental() %}delete from {{ this }} where {{ options_date_window('as_of_date') }} and {{ underlyings_filter('underlying') }}{% endif %}"
) }}
-- Dealer gamma exposure per trade date, underlying, expiry and strike (roots of one underlying summed, e.g. SPX + SPXW),
-- from the per-contract primitive: sign x gamma x OI x 100 shares per point, x spot^2 x 1% in dollars.
with contracts as (
    select *
    from {{ ref('int_gex_contracts_current') }}
    {% if is_incremental() %}
    where {{ options_date_window('as_of_date') }} and {{ underlyings_filter('underlying') }}
    {% endif %}
),

by_strike as (
    select
        as_of_date,
        underlying,
        expiration,
        strike,
        min(business_days_to_expiry)                                                                        as business_days_to_expiry,
        cast(coalesce(sum(open_interest) filter (where option_type = 'C'), 0) as bigint)                                  as call_open_interest,
        cast(coalesce(sum(open_interest) filter (where option_type = 'P'), 0) as bigint)                                  as put_open_interest,
        cast(coalesce(sum(gex_shares_per_pt) filter (where option_type = 'C'), 0) as decimal(38, 4))        as call_gex_shares_per_pt,
        cast(coalesce(sum(gex_shares_per_pt) filter (where option_type = 'P'), 0) as decimal(38, 4))        as put_gex_shares_per_pt,
        cast(coalesce(sum(gex_usd_per_1pct) filter (where option_type = 'C'), 0) as decimal(38, 2))         as call_gex_usd_per_1pct,
        cast(coalesce(sum(gex_usd_per_1pct) filter (where option_type = 'P'), 0) as decimal(38, 2))         as put_gex_usd_per_1pct,
        cast(coalesce(sum(gex_source_usd_per_1pct), 0) as decimal(38, 2))                                   as net_gex_usd_per_1pct_source_gamma,
        cast(count(*) filter (where gamma_status <> 'ok') as integer)                                       as contracts_gamma_unavailable
    from contracts
    group by 1, 2, 3, 4
)

select
    as_of_date,
    underlying,
    expiration,
    strike,
    business_days_to_expiry,
    call_open_interest,
    put_open_interest,
    call_gex_shares_per_pt,
    put_gex_shares_per_pt,
    call_gex_shares_per_pt + put_gex_shares_per_pt     as net_gex_shares_per_pt,
    call_gex_usd_per_1pct,
    put_gex_usd_per_1pct,
    call_gex_usd_per_1pct + put_gex_usd_per_1pct       as net_gex_usd_per_1pct,
    net_gex_usd_per_1pct_source_gamma,
    contracts_gamma_unavailable
from by_strike
