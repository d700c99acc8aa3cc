{#- A model of another source's tag when it is built in this warehouse, else a typed empty relation: the dealer-flow
    view builds with any subset of the options, short-data and FINRA sources landed (each tag is built only once its
    lake data exists). The ref is always taken, so dbt orders this model after it when both are selected. -#}
{% macro relation_or_empty(model_name, columns) -%}
    {%- set relation = ref(model_name) -%}
    {%- if execute and load_relation(relation) is not none -%}
        {{ relation }}
    {%- else -%}
        (select {% for name, type in columns.items() %}cast(null as {{ type }}) as {{ name }}{% if not loop.last %}, {% endif %}{% endfor %} where false)
    {%- endif -%}
{%- endmacro %}

{#- Monday of the week holding a date column. -#}
{% macro week_of(column) -%}
    cast(date_trunc('week', {{ column }}) as date)
{%- endmacro %}
