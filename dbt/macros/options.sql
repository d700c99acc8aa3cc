{#- Options layer macros (models/*/options). -#}

{#- SQL predicate limiting `column` to the run's run_var('underlyings'); an empty list means every underlying. -#}
{% macro underlyings_filter(column) -%}
    {%- set underlyings = run_var('underlyings') -%}
    {%- if underlyings | length == 0 -%}true
    {%- else -%}{{ column }} in ({%- for u in underlyings -%}'{{ u }}'{%- if not loop.last -%}, {% endif -%}{%- endfor -%})
    {%- endif -%}
{%- endmacro %}

{#- The run's inclusive trade-date window on `column` (vars date_start, date_end). -#}
{% macro options_date_window(column) -%}
    {{ column }} between date '{{ run_var("date_start") }}' and date '{{ run_var("date_end") }}'
{%- endmacro %}

{#- Rows of every landed version of a lake dataset that may not be landed yet (OCC reports arrive separately
    from imported chains). DuckDB cannot scan an empty glob, so when no version exists this is a typed empty
    relation with `columns` ({name: type}). -#}
{% macro lake_parquet_or_empty(dataset, depth, columns) -%}
    {%- set pattern = env_var("DEALERFLOW_LAKE", "../.dealerflow/lake") ~ "/" ~ dataset ~ "/" ~ ("*/" * depth) ~ "v=*/data.parquet" -%}
    {%- set found = namespace(n=0) -%}
    {%- if execute -%}
        {%- set found.n = run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] -%}
    {%- endif -%}
    {%- if found.n > 0 -%}
        read_parquet('{{ pattern }}', union_by_name = true, hive_partitioning = false)
    {%- else -%}
        (select {% for name, type in columns.items() %}cast(null as {{ type }}) as {{ name }}{% if not loop.last %}, {% endif %}{% endfor %} where false)
    {%- endif -%}
{%- endmacro %}
