{#- A run's window var (week_start, week_end, tiers, month_start, month_end, date_start, date_end, underlyings,
    as_of): from the JSON object in env var DEALERFLOW_DBT_RUN_VARS when dbt executes, else var(name).
    Why not --vars: dbt hashes --vars into its parse state, so every run with a new window re-parsed the whole project
    (~5-10 s per Dagster run). Read only while executing, this env var never enters the parse state, so runs keep
    partial parsing. `dbt build --vars ...` by hand still works (and re-parses); the env var wins when both are set. -#}
{% macro run_var(name) -%}
    {%- if execute -%}
        {%- set run_vars = fromjson(env_var('DEALERFLOW_DBT_RUN_VARS', '{}')) -%}
        {%- if run_vars is not mapping -%}
            {%- do exceptions.raise_compiler_error('DEALERFLOW_DBT_RUN_VARS must be a JSON object, got: ' ~ env_var('DEALERFLOW_DBT_RUN_VARS', '')) -%}
        {%- endif -%}
        {%- if name in run_vars -%}{{ return(run_vars[name]) }}{%- endif -%}
    {%- endif -%}
    {{ return(var(name)) }}
{%- endmacro %}
