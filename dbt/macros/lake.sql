{#- The run's tiers as a SQL list literal, for incremental pre-hooks and filters. -#}
{% macro tiers_list() -%}
    ({%- for t in var('tiers') -%}'{{ t }}'{%- if not loop.last -%}, {% endif -%}{%- endfor -%})
{%- endmacro %}
