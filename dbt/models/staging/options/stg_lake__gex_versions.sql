-- One row per landed version of a gex (trade date, underlying) partition, from the manifests beside the rows:
-- depends_on: {{ source('options_lake', 'gex') }}
select
    cast(json_extract_string(partition, '$.date') as date)            as as_of_date,
    json_extract_string(partition, '$.underlying')                    as underlying,
    cast(version_id as varchar)                                       as version_id,
    cast(landed_at as timestamptz)                                    as landed_at,
    cast(rows as bigint)                                              as row_count,
    json_extract_string(facts, '$.chain_version_id')                  as chain_version_id,
    cast(content_hash as varchar)                                     as content_hash,
    cast(supersedes as varchar)                                       as supersedes_version_id
from {{ lake_manifests('gex', 2) }}
