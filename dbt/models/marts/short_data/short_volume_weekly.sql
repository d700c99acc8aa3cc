-- Reg SHO short-sale volume per FINRA week (Monday start, as in the FINRA weekly OTC transparency data) and symbol.
select
    cast(date_trunc('week', trade_date) as date)              as week_start_date,
    symbol,
    market_segment,
    count(*)                                                  as trading_days,
    min(trade_date)                                           as first_trade_date,
    max(trade_date)                                           as last_trade_date,
    sum(short_volume)                                         as short_volume,
    sum(short_exempt_volume)                                  as short_exempt_volume,
    sum(total_volume)                                         as total_volume,
    cast(sum(short_volume) as double) / nullif(sum(total_volume), 0) as short_ratio,
    bool_and(is_complete)                                     as is_complete
from {{ ref('short_volume_daily') }}
group by 1, 2, 3
