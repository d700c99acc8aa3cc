{#- FINRA weekly: the SQL of stg_finra__weekly_summary and int_finra_weekly_current lives here, so that a run limited
    to a window (macros/run_window.sql) can apply the very same SQL to the lake files of its window only. Reading the
    lake's glob costs a listing and a schema read of every landed file in every query, however narrow its filter;
    with years of weeks (thousands of files) that dominated incremental runs. -#}

{#- FINRA weekly rows of the given lake relation, renamed and typed (stg_finra__weekly_summary). -#}
{% macro finra_weekly_summary_select(lake_relation) -%}
select
    weekStartDate                                    as week_start_date,
    tierIdentifier                                   as tier,
    tierDescription                                  as tier_description,
    summaryTypeCode                                  as summary_type_code,
    nullif(issueSymbolIdentifier, '')                as symbol,
    issueName                                        as issue_name,
    nullif(MPID, '')                                 as mpid,
    firmCRDNumber                                    as firm_crd,
    marketParticipantName                            as participant_name,
    productTypeCode                                  as product_type_code,
    cast(totalWeeklyShareQuantity as decimal(38, 6)) as share_quantity,
    cast(totalWeeklyTradeCount as bigint)            as trade_count,
    cast(totalNotionalSum as decimal(38, 6))         as notional_sum,
    lastUpdateDate                                   as last_update_date,
    initialPublishedDate                             as initial_published_date,
    lastReportedDate                                 as last_reported_date,
    _version_id                                      as version_id
from {{ lake_relation }}
{%- endmacro %}

{#- Rows of the current version of every partition in the given summary relation (int_finra_weekly_current). -#}
{% macro finra_weekly_current_select(summary_relation) -%}
select
    r.*,
    left(r.summary_type_code, 3)                                              as venue_kind,
    -- Non-ATS firms have no MPID in FINRA's data: the firm name is their identifier.
    case when left(r.summary_type_code, 3) = 'ATS' then coalesce(r.mpid, r.participant_name)
         else r.participant_name end                                          as venue_id,
    coalesce(r.firm_crd = 0 or lower(r.participant_name) = 'de minimis firms', false) as is_de_minimis,
    v.due_date
from {{ summary_relation }} as r
inner join {{ ref('int_finra_weekly_current_versions') }} as v
    on r.version_id = v.version_id
   and r.week_start_date = v.week_start_date
   and r.tier = v.tier
{%- endmacro %}

{#- The lake's FINRA weekly data files (every version) of the run window's partitions, widened by preceding/following
    weeks; [] while parsing. -#}
{% macro finra_weekly_window_files(preceding_weeks=0, following_weeks=0) -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set lake = env_var('DEALERFLOW_LAKE', '../.dealerflow/lake') | replace("'", "''") -%}
    {%- set query -%}
        select file
        from glob('{{ lake }}/finra_weekly/*/*/*/v=*/data.parquet')
        where regexp_extract(file, '/week=([^/]*)/tier=[^/]*/kind=[^/]*/v=[^/]*/data\.parquet$', 1)
                  >= strftime(date '{{ run_var("week_start") }}' - interval {{ 7 * preceding_weeks }} day, '%Y-%m-%d')
          and regexp_extract(file, '/week=([^/]*)/tier=[^/]*/kind=[^/]*/v=[^/]*/data\.parquet$', 1)
                  < strftime(date '{{ run_var("week_end") }}' + interval {{ 7 * following_weeks }} day, '%Y-%m-%d')
          and regexp_extract(file, '/tier=([^/]*)/kind=[^/]*/v=[^/]*/data\.parquet$', 1) in {{ tiers_list() }}
        order by file
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{%- endmacro %}

{#- source('lake', 'finra_weekly'), or, when the run does not cover everything, the same read of the window's files
    only. Callers still filter on the window: this only spares reading the other files. Every landed file has the
    lake's one schema (sources/finra_weekly.py RAW_SCHEMA), so the window's files carry every column the SELECTs name.
    No file in the window: the whole source (the callers' filters then keep nothing or what the glob finds). -#}
{% macro finra_weekly_lake_in_window(preceding_weeks=0, following_weeks=0) -%}
    {%- set full = source('lake', 'finra_weekly') -%}
    {%- if finra_weekly_window_covers_everything() -%}
        {{ return(full) }}
    {%- endif -%}
    {%- set files = finra_weekly_window_files(preceding_weeks, following_weeks) -%}
    {%- if not files -%}
        {{ return(full) }}
    {%- endif -%}
    {%- set quoted = [] -%}
    {%- for f in files -%}{%- do quoted.append("'" ~ (f | replace("'", "''")) ~ "'") -%}{%- endfor -%}
    {{ return('read_parquet([' ~ (quoted | join(', ')) ~ '], union_by_name = true)') }}
{%- endmacro %}

{#- stg_finra__weekly_summary, read from the run window's lake files only when `narrow` (see finra_weekly_lake_in_window). -#}
{% macro finra_weekly_summary_in_window(preceding_weeks=0, following_weeks=0, narrow=true) -%}
    {#- Resolved unconditionally, so dbt records the dependencies whichever branch a run takes. -#}
    {%- set full = ref('stg_finra__weekly_summary') -%}
    {%- do source('lake', 'finra_weekly') -%}
    {%- if not narrow or finra_weekly_window_covers_everything() -%}
        {{ return(full) }}
    {%- endif -%}
    {{ return('(' ~ finra_weekly_summary_select(finra_weekly_lake_in_window(preceding_weeks, following_weeks)) ~ ')') }}
{%- endmacro %}

{#- int_finra_weekly_current, read from the run window's lake files only when `narrow` (see finra_weekly_lake_in_window). -#}
{% macro finra_weekly_current_in_window(preceding_weeks=0, following_weeks=0, narrow=true) -%}
    {#- Resolved unconditionally, so dbt records the dependencies whichever branch a run takes. -#}
    {%- set full = ref('int_finra_weekly_current') -%}
    {%- do ref('stg_finra__weekly_summary') -%}
    {%- do ref('int_finra_weekly_current_versions') -%}
    {%- do source('lake', 'finra_weekly') -%}
    {%- if not narrow or finra_weekly_window_covers_everything() -%}
        {{ return(full) }}
    {%- endif -%}
    {{ return('(' ~ finra_weekly_current_select(finra_weekly_summary_in_window(preceding_weeks, following_weeks)) ~ ')') }}
{%- endmacro %}
