-- One row per landed version of a Reg SHO (trade date, facility) lake partition, empty versions included.
-- depends_on: {{ source('lake', 'regsho_daily') }}
{% if lake_is_landed('regsho_daily', 2) %}
select
    cast(json_extract_string(partition, '$.date') as date)                      as trade_date,
    json_extract_string(partition, '$.facility')                                as facility,
    cast(version_id as varchar)                                                 as version_id,
    cast(landed_at as timestamptz)                                              as landed_at,
    cast(rows as bigint)                                                        as row_count,
    cast(json_extract_string(facts, '$.trailer_count') as bigint)               as trailer_count,
    cast(json_extract_string(facts, '$.has_trailer') as boolean)                as has_trailer,
    cast(json_extract_string(facts, '$.short_volume') as decimal(38, 6))        as short_volume_total,
    cast(json_extract_string(facts, '$.total_volume') as decimal(38, 6))        as total_volume_total,
    cast(json_extract_string(facts, '$.fetched_at') as timestamptz)             as fetched_at,
    cast(json_extract_string(facts, '$.published_before_due') as boolean)       as fetched_before_due_time,
    json_extract_string(facts, '$.origin')                                      as origin,
    json_extract_string(facts, '$.file')                                        as file_name,
    cast(content_hash as varchar)                                               as content_hash,
    cast(supersedes as varchar)                                                 as supersedes_version_id
from {{ lake_manifests('regsho_daily', 2) }}
{% else %}
select cast(null as date) as trade_date, cast(null as varchar) as facility, cast(null as varchar) as version_id,
       cast(null as timestamptz) as landed_at, cast(null as bigint) as row_count, cast(null as bigint) as trailer_count,
       cast(null as boolean) as has_trailer, cast(null as decimal(38, 6)) as short_volume_total,
       cast(null as decimal(38, 6)) as total_volume_total, cast(null as timestamptz) as fetched_at,
       cast(null as boolean) as fetched_before_due_time, cast(null as varchar) as origin, cast(null as varchar) as file_name,
       cast(null as varchar) as content_hash, cast(null as varchar) as supersedes_version_id
where false
{% endif %}
