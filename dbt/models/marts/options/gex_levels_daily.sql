{{ config(
    materialized='incremental',
    incremental_strategy='append',
    tags=['options'],
    pre_hook="{% if is_incremental() %}delete from {{ this }} where {{ options_date_window('as_of_date') }} and {{ underlyings_filter('underlying') }}{% endif %}"
) }}
-- One row per trade date and underlying: total dealer gamma exposure (recomputed and published gamma), zero gamma,
-- call and put walls, the 0DTE share, and the conventions the numbers were computed with (gex.py, stored per version).
select
    as_of_date,
    underlying,
    quote_time,
    cast(spot as decimal(18, 4))                                          as spot,
    cast(n_contracts as integer)                                          as n_contracts,
    cast(n_gamma_unavailable as integer)                                  as n_gamma_unavailable,
    cast(oi_gamma_unavailable_contracts as bigint)                        as oi_gamma_unavailable_contracts,
    cast(total_gex_usd_per_1pct as decimal(38, 2))                        as total_gex_usd_per_1pct,
    cast(total_gex_usd_per_1pct_source_gamma as decimal(38, 2))           as total_gex_usd_per_1pct_source_gamma,
    cast(total_gex_shares_per_pt as decimal(38, 4))                       as total_gex_shares_per_pt,
    cast(total_gex_shares_per_pt_source_gamma as decimal(38, 4))          as total_gex_shares_per_pt_source_gamma,
    cast(total_gex_usd_per_pt as decimal(38, 2))                          as total_gex_usd_per_pt,
    cast(call_gex_usd_per_1pct as decimal(38, 2))                         as call_gex_usd_per_1pct,
    cast(put_gex_usd_per_1pct as decimal(38, 2))                          as put_gex_usd_per_1pct,
    cast(gex_ex_0dte_usd_per_1pct as decimal(38, 2))                      as gex_ex_0dte_usd_per_1pct,
    cast(gex_ex_next_expiry_usd_per_1pct as decimal(38, 2))               as gex_ex_next_expiry_usd_per_1pct,
    gex_0dte_share,
    regime,
    zero_gamma,
    cast(zero_gamma_crossings as integer)                                 as zero_gamma_crossings,
    zero_gamma_all_levels,
    cast(call_wall as decimal(18, 3))                                     as call_wall,
    cast(call_wall_gex_usd_per_1pct as decimal(38, 2))                    as call_wall_gex_usd_per_1pct,
    cast(put_wall as decimal(18, 3))                                      as put_wall,
    cast(put_wall_gex_usd_per_1pct as decimal(38, 2))                     as put_wall_gex_usd_per_1pct,
    gamma_recomputed_vs_source_rel_diff,
    time_convention,
    t_floor_years,
    rate,
    dividend_yield,
    call_dealer_sign,
    put_dealer_sign,
    iv_unavailable_policy,
    profile_grid_low,
    profile_grid_high,
    cast(profile_grid_levels as integer)                                  as profile_grid_levels
from {{ ref('int_gex_levels_current') }}
{% if is_incremental() %}
where {{ options_date_window('as_of_date') }} and {{ underlyings_filter('underlying') }}
{% endif %}
