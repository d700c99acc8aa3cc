-- One row per landed version of a short-interest (settlement date) lake partition, with the source it came from.
-- depends_on: {{ source('lake', 'short_interest') }}
{% if lake_is_landed('short_interest', 1) %}
select
    cast(json_extract_string(partition, '$.settlement') as date)                as settlement_date,
    cast(version_id as varchar)                                                 as version_id,
    cast(landed_at as timestamptz)                                              as landed_at,
    cast(rows as bigint)                                                        as row_count,
    json_extract_string(facts, '$.source_format')                               as source_format,
    json_extract_string(facts, '$.origin')                                      as origin,
    cast(json_extract_string(facts, '$.record_total') as bigint)                as record_total,
    cast(json_extract_string(facts, '$.fetched_at') as timestamptz)             as fetched_at,
    cast(content_hash as varchar)                                               as content_hash,
    cast(supersedes as varchar)                                                 as supersedes_version_id
from {{ lake_manifests('short_interest', 1) }}
{% else %}
select cast(null as date) as settlement_date, cast(null as varchar) as version_id, cast(null as timestamptz) as landed_at,
       cast(null as bigint) as row_count, cast(null as varchar) as source_format, cast(null as varchar) as origin,
       cast(null as bigint) as record_total, cast(null as timestamptz) as fetched_at, cast(null as varchar) as content_hash,
       cast(null as varchar) as supersedes_version_id
where false
{% endif %}
