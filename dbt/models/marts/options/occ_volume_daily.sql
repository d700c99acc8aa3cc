{{ config(
    materialized='incremental',
    incremental_strategy='append',
    tags=['options'],
    pre_hook="{% if is_incremental() %}delete from {{ this }} where {{ options_date_window('trade_date') }} and {{ underlyings_filter('underlying') }}{% endif %}"
) }}
-- OCC cleared option contracts per trade date, underlying and account type (customer, market maker, firm),
-- calls and puts, summed over roots and exchanges.
select
    trade_date,
    underlying,
    account_type,
    cast(coalesce(sum(contracts) filter (where call_or_put = 'C'), 0) as bigint)  as call_contracts,
    cast(coalesce(sum(contracts) filter (where call_or_put = 'P'), 0) as bigint)  as put_contracts,
    cast(sum(contracts) as bigint)                                                 as total_contracts,
    cast(coalesce(sum(contracts) filter (where call_or_put = 'P'), 0) as double)
        / nullif(coalesce(sum(contracts) filter (where call_or_put = 'C'), 0), 0) as put_call_ratio
from {{ ref('int_occ_volume_current') }}
{% if is_incremental() %}
where {{ options_date_window('trade_date') }} and {{ underlyings_filter('underlying') }}
{% endif %}
group by 1, 2, 3
