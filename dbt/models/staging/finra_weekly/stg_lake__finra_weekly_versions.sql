-- One row per landed version of a FINRA weekly (week, tier, kind) lake partition, empty versions included.
-- The manifests sit beside the rows of source('lake', 'finra_weekly'):
-- depends_on: {{ source('lake', 'finra_weekly') }}
-- A table, rebuilt from every manifest.json on each build: read once per run instead of once per query that picks the
-- current versions (with years of weeks, thousands of small JSON files). A few thousand rows.
{{ config(materialized='table') }}
select
    cast(json_extract_string(partition, '$.week') as date)         as week_start_date,
    json_extract_string(partition, '$.tier')                       as tier,
    json_extract_string(partition, '$.kind')                       as venue_kind,
    cast(version_id as varchar)                                    as version_id,
    cast(landed_at as timestamptz)                                 as landed_at,
    cast(rows as bigint)                                           as row_count,
    cast(json_extract_string(facts, '$.record_total') as bigint)   as record_total,
    cast(json_extract_string(facts, '$.published_on') as date)     as published_on,
    json_extract_string(facts, '$.origin')                         as origin,
    cast(content_hash as varchar)                                  as content_hash,
    cast(supersedes as varchar)                                    as supersedes_version_id
from {{ lake_manifests('finra_weekly', 3) }}
