-- Fails-to-deliver per FINRA week (Monday start) and CUSIP. Daily quantities are balances, so the weekly sum is
-- share-days of fails, not new fails; the last and largest balances are given alongside.
select
    cast(date_trunc('week', settlement_date) as date)                      as week_start_date,
    cusip,
    arg_max(symbol, settlement_date)                                       as symbol,
    count(*)                                                               as settlement_days,
    max(settlement_date)                                                   as last_settlement_date,
    sum(quantity)                                                          as fail_share_days,
    max(quantity)                                                          as max_quantity,
    arg_max(quantity, settlement_date)                                     as last_quantity,
    arg_max_null(price, settlement_date)                                      as last_price,
    max(notional)                                                          as max_notional
from {{ ref('fails_to_deliver') }}
group by 1, 2
