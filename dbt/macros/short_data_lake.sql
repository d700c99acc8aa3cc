{#- True when at least one version of a lake dataset is landed (checked when models run; false while parsing).
    Short and settlement datasets arrive independently (a Reg SHO import needs no FTD file), so their staging
    models read an empty, typed relation until their dataset exists: DuckDB cannot scan an empty glob. -#}
{% macro lake_is_landed(dataset, depth) -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {%- set pattern = env_var("DEALERFLOW_LAKE", "../.dealerflow/lake") ~ "/" ~ dataset ~ "/" ~ ("*/" * depth) ~ "v=*/manifest.json" -%}
    {%- set found = run_query("select count(*) from glob('" ~ pattern ~ "')").columns[0].values()[0] -%}
    {{ return(found > 0) }}
{%- endmacro %}
