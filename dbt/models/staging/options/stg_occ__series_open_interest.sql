-- OCC series-search open interest of every archived snapshot (empty until OCC data is landed).
-- depends_on: {{ source('options_lake', 'occ_series') }}
select
    trade_date,
    underlying,
    root,
    expiration,
    strike_thousandths,
    cast(strike_thousandths as decimal(18, 3)) / 1000   as strike,
    listed_sides,
    cast(call_open_interest as bigint)                   as call_open_interest,
    cast(put_open_interest as bigint)                    as put_open_interest,
    position_limit,
    captured_at,
    _version_id                                          as version_id
from {{ lake_parquet_or_empty('occ_series', 2, {
    'trade_date': 'date', 'underlying': 'varchar', 'root': 'varchar', 'expiration': 'date',
    'strike_thousandths': 'bigint', 'listed_sides': 'varchar', 'call_open_interest': 'bigint',
    'put_open_interest': 'bigint', 'position_limit': 'bigint', 'captured_at': 'timestamptz', '_version_id': 'varchar'}) }}
