-- One row per landed version of an SEC fails-to-deliver (half-month) lake partition, with its trailer totals.
-- depends_on: {{ source('lake', 'sec_ftd') }}
{% if lake_is_landed('sec_ftd', 1) %}
select
    json_extract_string(partition, '$.period')                                  as period,
    cast(json_extract_string(facts, '$.period_start') as date)                  as period_start,
    cast(json_extract_string(facts, '$.period_end') as date)                    as period_end,
    cast(version_id as varchar)                                                 as version_id,
    cast(landed_at as timestamptz)                                              as landed_at,
    cast(rows as bigint)                                                        as row_count,
    cast(json_extract_string(facts, '$.has_trailer') as boolean)                as has_trailer,
    cast(json_extract_string(facts, '$.trailer_record_count') as bigint)        as trailer_record_count,
    cast(json_extract_string(facts, '$.trailer_total_quantity') as bigint)      as trailer_total_quantity,
    cast(json_extract_string(facts, '$.total_quantity') as bigint)              as total_quantity,
    json_extract_string(facts, '$.file')                                        as file_name,
    json_extract_string(facts, '$.member')                                      as member_name,
    cast(json_extract_string(facts, '$.member_stamp') as date)                  as member_stamp,
    cast(json_extract_string(facts, '$.fetched_at') as timestamptz)             as fetched_at,
    json_extract_string(facts, '$.origin')                                      as origin,
    cast(content_hash as varchar)                                               as content_hash,
    cast(supersedes as varchar)                                                 as supersedes_version_id
from {{ lake_manifests('sec_ftd', 1) }}
{% else %}
select cast(null as varchar) as period, cast(null as date) as period_start, cast(null as date) as period_end,
       cast(null as varchar) as version_id, cast(null as timestamptz) as landed_at, cast(null as bigint) as row_count,
       cast(null as boolean) as has_trailer, cast(null as bigint) as trailer_record_count,
       cast(null as bigint) as trailer_total_quantity, cast(null as bigint) as total_quantity,
       cast(null as varchar) as file_name, cast(null as varchar) as member_name, cast(null as date) as member_stamp,
       cast(null as timestamptz) as fetched_at, cast(null as varchar) as origin, cast(null as varchar) as content_hash,
       cast(null as varchar) as supersedes_version_id
where false
{% endif %}
