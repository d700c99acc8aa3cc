-- Flag (warn, do not fail) current versions of short and settlement data observed before the publication
-- calendar says they are due: a mis-dated file, a clock problem, or a calendar rule that needs updating.
{{ config(severity='warn', meta={'dagster': {'ref': {'name': 'int_regsho_daily_current_versions'}}}) }}
select 'regsho' as dataset, cast(trade_date as varchar) || ' ' || facility as partition_key, file_name as detail
from {{ ref('int_regsho_daily_current_versions') }}
where published_before_due
union all
select 'short-interest', cast(settlement_date as varchar), source_format
from {{ ref('int_short_interest_current_versions') }}
where published_before_due
union all
select 'ftd', period, cast(published_on as varchar) || ' < due ' || cast(due_date as varchar)
from {{ ref('int_sec_ftd_current_versions') }}
where published_before_due
