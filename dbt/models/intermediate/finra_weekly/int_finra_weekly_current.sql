-- Rows of the current version of every FINRA weekly partition, all grains (filter one grain before summing).
-- The SELECT is macros/finra_weekly.sql finra_weekly_current_select (runs limited to a window apply it to their files).
{{ finra_weekly_current_select(ref('stg_finra__weekly_summary')) }}
