-- One row per trade date and symbol: FINRA Reg SHO short-sale volume reported to FINRA's trade reporting facilities
-- (off-exchange only). NMS symbols come from CNMS or, when CNMS is not landed, the facility sum; OTC from FORF.
select
    trade_date,
    symbol,
    market_segment,
    volume_source,
    facility_markets,
    short_volume,
    short_exempt_volume,
    total_volume,
    cast(short_volume as double) / nullif(total_volume, 0) as short_ratio,
    is_complete
from {{ ref('int_short_volume_daily_sources') }}
