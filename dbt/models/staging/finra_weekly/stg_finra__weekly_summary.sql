-- FINRA weekly OTC transparency rows of every landed version: renamed and typed, nothing else.
-- The SELECT is macros/finra_weekly.sql finra_weekly_summary_select (runs limited to a window apply it to their files).
{{ finra_weekly_summary_select(source('lake', 'finra_weekly')) }}
