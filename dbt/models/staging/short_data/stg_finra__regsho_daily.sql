-- FINRA Reg SHO daily short-sale volume rows of every landed version, one row per file row: renamed and typed.
-- ShortVolume already includes ShortExemptVolume (never add them).
-- depends_on: {{ source('lake', 'regsho_daily') }}
{% if lake_is_landed('regsho_daily', 2) %}
select
    cast(trade_date as date)                     as trade_date,
    facility,
    symbol,
    cast(short_volume as decimal(38, 6))         as short_volume,
    cast(short_exempt_volume as decimal(38, 6))  as short_exempt_volume,
    cast(total_volume as decimal(38, 6))         as total_volume,
    market,
    _version_id                                  as version_id
from {{ source('lake', 'regsho_daily') }}
{% else %}
select cast(null as date) as trade_date, cast(null as varchar) as facility, cast(null as varchar) as symbol,
       cast(null as decimal(38, 6)) as short_volume, cast(null as decimal(38, 6)) as short_exempt_volume,
       cast(null as decimal(38, 6)) as total_volume, cast(null as varchar) as market, cast(null as varchar) as version_id
where false
{% endif %}
