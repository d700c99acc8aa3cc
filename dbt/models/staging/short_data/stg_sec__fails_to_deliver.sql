-- SEC fails-to-deliver rows of every landed version. Quantity is the balance of fails outstanding on the
-- settlement date (not new fails); price is the previous trading day's close, when the SEC has one.
-- depends_on: {{ source('lake', 'sec_ftd') }}
{% if lake_is_landed('sec_ftd', 1) %}
select
    cast(settlement_date as date)        as settlement_date,
    cusip,
    symbol,
    cast(quantity as bigint)             as quantity,
    description,
    cast(price as decimal(18, 6))        as price,
    _version_id                          as version_id
from {{ source('lake', 'sec_ftd') }}
{% else %}
select cast(null as date) as settlement_date, cast(null as varchar) as cusip, cast(null as varchar) as symbol,
       cast(null as bigint) as quantity, cast(null as varchar) as description, cast(null as decimal(18, 6)) as price,
       cast(null as varchar) as version_id
where false
{% endif %}
