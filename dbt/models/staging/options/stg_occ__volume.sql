-- OCC volume-query rows of every landed version (empty until OCC data is landed; chains can be imported alone).
-- depends_on: {{ source('options_lake', 'occ_volume') }}
select
    report_date,
    actdate                           as trade_date,
    underlying,
    symbol                            as option_root,
    actype,
    account_type,
    porc                              as call_or_put,
    exchange,
    cast(quantity as bigint)          as contracts,
    _version_id                       as version_id
from {{ lake_parquet_or_empty('occ_volume', 2, {
    'report_date': 'date', 'actdate': 'date', 'underlying': 'varchar', 'symbol': 'varchar', 'actype': 'varchar',
    'account_type': 'varchar', 'porc': 'varchar', 'exchange': 'varchar', 'quantity': 'bigint', '_version_id': 'varchar'}) }}
