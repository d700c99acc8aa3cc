{#- The run's tiers as a SQL list literal, for incremental pre-hooks and filters. -#}
{% macro tiers_list() -%}
    ({%- for t in run_var('tiers') -%}'{{ t }}'{%- if not loop.last -%}, {% endif -%}{%- endfor -%})
{%- endmacro %}

{#- Manifests of every landed version of a lake dataset (empty versions included), as one relation.
    Versions live at <lake>/<dataset>/<k1=v1>/.../v=<id>/manifest.json, `depth` partition levels deep. -#}
{% macro lake_manifests(dataset, depth) -%}
    read_json('{{ env_var("DEALERFLOW_LAKE", "../.dealerflow/lake") }}/{{ dataset }}/{{ "*/" * depth }}v=*/manifest.json',
              format = 'auto',
              columns = {dataset: 'VARCHAR', partition: 'JSON', version_id: 'VARCHAR', landed_at: 'VARCHAR',
                         rows: 'BIGINT', content_hash: 'VARCHAR', supersedes: 'VARCHAR', facts: 'JSON'})
{%- endmacro %}
