{#- The FINRA weekly run window: run vars week_start (inclusive), week_end (exclusive) and tiers (macros/run_vars.sql).
    Dagster passes the window of the run's partitions; without them (dbt_project.yml defaults: every week since
    2014-06-02, every tier) a run covers everything. Incremental marts rebuild only the window; the tests that read
    the lake or the marts check only the window too (see get_where_subquery below), so the cost of an incremental run
    does not grow with history. A run over everything, and any --full-refresh, tests every row. -#}

{% macro finra_weekly_window_covers_everything() -%}
    {%- set all_tiers = run_var('tiers') | list -%}
    {{ return(flags.FULL_REFRESH
              or (run_var('week_start') | string <= '2014-06-02'
                  and run_var('week_end') | string >= '9999-12-31'
                  and 'T1' in all_tiers and 'T2' in all_tiers and 'OTCE' in all_tiers)) }}
{%- endmacro %}

{#- SQL predicate keeping rows of the run window: `week_column` in [week_start, week_end + following_weeks weeks) and
    `tier_column` (if given) in run_var('tiers'). 'true' when the run covers everything. With keep_nulls, rows whose week
    or tier is null are kept too, so not_null tests on those columns still see every null row. -#}
{% macro finra_weekly_window(week_column='week_start_date', tier_column='tier', following_weeks=0, keep_nulls=false) -%}
    {%- if finra_weekly_window_covers_everything() -%}
        true
    {%- else -%}
        {%- set week_end = "date '" ~ run_var('week_end') ~ "'" if following_weeks == 0
                           else "date '" ~ run_var('week_end') ~ "' + interval " ~ (7 * following_weeks) ~ " day" -%}
        {%- set weeks = week_column ~ " >= date '" ~ run_var('week_start') ~ "' and " ~ week_column ~ " < " ~ week_end -%}
        {%- if keep_nulls %}({{ week_column }} is null or ({{ weeks }})){% else %}({{ weeks }}){% endif -%}
        {%- if tier_column %} and {% if keep_nulls %}({{ tier_column }} is null or {{ tier_column }} in {{ tiers_list() }}){% else %}{{ tier_column }} in {{ tiers_list() }}{% endif %}{% endif -%}
    {%- endif -%}
{%- endmacro %}

{#- Overrides dbt's get_where_subquery, the hook that renders a generic test's `model` argument: applies the test's
    `where` config as dbt does and, for a model whose YAML sets config.meta.test_window
    ({week_column, tier_column, following_weeks, relation_macro}), restricts its generic tests to the run window.
    relation_macro names a macro returning the model read from the window's lake files only (macros/finra_weekly.sql). -#}
{% macro get_where_subquery(relation) -%}
    {%- set predicates = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}{%- do predicates.append('(' ~ where ~ ')') -%}{%- endif -%}
    {%- if execute and model.attached_node and model.attached_node in graph.nodes -%}
        {%- set scope = graph.nodes[model.attached_node].config.meta.get('test_window') -%}
        {%- if scope and not finra_weekly_window_covers_everything() -%}
            {%- do predicates.append(finra_weekly_window(scope.get('week_column', 'week_start_date'),
                                                         scope.get('tier_column'), scope.get('following_weeks', 0),
                                                         keep_nulls=true)) -%}
            {%- if scope.get('relation_macro') -%}
                {%- set relation = context[scope['relation_macro']]() -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- if predicates -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ (predicates | join(' and ')) ~ ') dbt_subquery') -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
