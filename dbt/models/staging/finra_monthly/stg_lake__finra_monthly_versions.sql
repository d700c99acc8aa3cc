-- One row per landed version of a FINRA monthly lake partition (blocksSummary, otcBlocksSummary: month;
-- monthlySummary: month x tier), empty versions included. The manifests sit beside the rows of:
-- depends_on: {{ source('finra_monthly_lake', 'finra_ats_blocks') }}
-- depends_on: {{ source('finra_monthly_lake', 'finra_otc_blocks') }}
-- depends_on: {{ source('finra_monthly_lake', 'finra_monthly_summary') }}
{% set datasets = [('finra_ats_blocks', 1), ('finra_otc_blocks', 1), ('finra_monthly_summary', 2)] %}
{% for dataset, depth in datasets %}
select
    '{{ dataset }}'                                                as dataset,
    cast(json_extract_string(partition, '$.month') as date)        as month_start_date,
    json_extract_string(partition, '$.tier')                       as tier,
    cast(version_id as varchar)                                    as version_id,
    cast(landed_at as timestamptz)                                 as landed_at,
    cast(rows as bigint)                                           as row_count,
    cast(json_extract_string(facts, '$.record_total') as bigint)   as record_total,
    cast(json_extract_string(facts, '$.published_on') as date)     as published_on,
    cast(json_extract_string(facts, '$.first_published') as date)  as first_published,
    json_extract_string(facts, '$.origin')                         as origin,
    cast(content_hash as varchar)                                  as content_hash,
    cast(supersedes as varchar)                                    as supersedes_version_id
from {{ lake_manifests(dataset, depth) }}
{% if not loop.last %}union all{% endif %}
{% endfor %}
