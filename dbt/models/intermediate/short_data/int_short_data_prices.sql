-- Closing prices per symbol and trading day from the SEC fails-to-deliver files (PRICE is the close of the trading
-- day before the settlement date), the price source the dark short index weights by when no other is landed.
with ftd as (
    select r.settlement_date, r.symbol, r.cusip, r.quantity, r.price
    from {{ ref('stg_sec__fails_to_deliver') }} as r
    inner join {{ ref('int_sec_ftd_current_versions') }} as v on r.version_id = v.version_id
    where r.price is not null and r.price > 0
),

trading_days as (
    select partition_start as trading_day
    from {{ source('reference', 'publication_calendar') }}
    where dataset = 'regsho'
),

dated as (
    select f.*, t.trading_day as price_date
    from ftd as f
    asof left join trading_days as t on f.settlement_date > t.trading_day
)

select
    price_date,
    symbol,
    price,
    'sec_ftd_previous_close' as price_source
from dated
where price_date is not null
-- A symbol listed under two CUSIPs on one day keeps the price of its larger fail position.
qualify row_number() over (partition by price_date, symbol order by quantity desc, cusip) = 1
