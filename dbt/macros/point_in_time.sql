{#- Point in time (run_var('as_of')): when a lake version became known, from the data's own dates, never from when it
    happened to be landed. A version's known date is
      1. the publication date the data carries (FINRA lastUpdateDate, the SEC zip stamp, the Cboe quote time), else
      2. for the FIRST version of a partition: its due date from the publication calendar (or the day it was observed,
         when that is earlier) -- a backfill today of a 2025 partition was knowable on its 2025 due date, else
      3. for a LATER version (a restatement with no date of its own): the day it was observed (fetched, else landed),
         the earliest date we can prove the restated content existed.
    `partition_by` names the partition's key columns; `version_id` orders versions (lake ids sort by landing time). -#}
{% macro known_on(published_on, due_date, observed_on, partition_by, version_id='version_id') -%}
    coalesce(
        {{ published_on }},
        case when row_number() over (partition by {{ partition_by }} order by {{ version_id }}) = 1
             then case when {{ due_date }} is null then {{ observed_on }}
                       when {{ observed_on }} is null then {{ due_date }}
                       else least({{ due_date }}, {{ observed_on }}) end
             else {{ observed_on }} end)
{%- endmacro %}

{#- The versions a build as of run_var('as_of') may use: known by then, for partitions due by then. -#}
{% macro known_as_of(known_on, due_date) -%}
    {{ known_on }} <= date '{{ run_var("as_of") }}'
    and coalesce({{ due_date }}, date '{{ run_var("as_of") }}') <= date '{{ run_var("as_of") }}'
{%- endmacro %}

{#- Landing date encoded in a lake version id (YYYYMMDDTHHMMSSffffffZ, dagster_project.lake), for relations that carry
    the id but not the manifest. -#}
{% macro version_landed_on(version_id) -%}
    cast(strptime(left({{ version_id }}, 8), '%Y%m%d') as date)
{%- endmacro %}
