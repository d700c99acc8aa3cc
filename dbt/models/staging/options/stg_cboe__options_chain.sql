-- Cboe option chain contracts of every landed version: typed, nothing else.
select
    trade_date,
    underlying,
    root,
    option_symbol,
    expiration,
    option_type,
    strike_thousandths,
    cast(strike_thousandths as decimal(18, 3)) / 1000   as strike,
    bid,
    ask,
    last_price,
    cast(volume as bigint)                               as volume,
    cast(open_interest as bigint)                        as open_interest,
    iv,
    delta,
    gamma,
    spot,
    quote_time,
    source_format,
    _version_id                                          as version_id
from {{ source('options_lake', 'options_chain') }}
