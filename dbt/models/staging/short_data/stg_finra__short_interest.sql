-- FINRA equity short interest rows of every landed version (all upstream shapes normalised by the parser).
-- depends_on: {{ source('lake', 'short_interest') }}
{% if lake_is_landed('short_interest', 1) %}
select
    cast(settlement_date as date)             as settlement_date,
    symbol,
    issue_name,
    market_class,
    market_description,
    exchange_code,
    cast(accounting_date as date)             as accounting_date,
    cast(current_short as bigint)             as current_short,
    cast(previous_short as bigint)            as previous_short,
    cast(change as bigint)                    as change,
    cast(change_percent as decimal(18, 2))    as change_percent,
    cast(avg_daily_volume as bigint)          as avg_daily_volume,
    cast(days_to_cover as decimal(18, 2))     as days_to_cover,
    days_to_cover_sentinel,
    revision_flag,
    stock_split_flag,
    source_format,
    _version_id                               as version_id
from {{ source('lake', 'short_interest') }}
{% else %}
select cast(null as date) as settlement_date, cast(null as varchar) as symbol, cast(null as varchar) as issue_name,
       cast(null as varchar) as market_class, cast(null as varchar) as market_description,
       cast(null as varchar) as exchange_code, cast(null as date) as accounting_date, cast(null as bigint) as current_short,
       cast(null as bigint) as previous_short, cast(null as bigint) as change, cast(null as decimal(18, 2)) as change_percent,
       cast(null as bigint) as avg_daily_volume, cast(null as decimal(18, 2)) as days_to_cover,
       cast(null as boolean) as days_to_cover_sentinel, cast(null as boolean) as revision_flag,
       cast(null as boolean) as stock_split_flag, cast(null as varchar) as source_format, cast(null as varchar) as version_id
where false
{% endif %}
