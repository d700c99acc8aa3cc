{{ config(meta={'dagster': {'ref': {'name': 'int_regsho_daily_current_versions'}}}) }}
-- No duplicate (trade date, symbol, facility) in the rows of the current Reg SHO versions.
select r.trade_date, r.symbol, r.facility, count(*) as n
from {{ ref('stg_finra__regsho_daily') }} as r
inner join {{ ref('int_regsho_daily_current_versions') }} as v on r.version_id = v.version_id
group by 1, 2, 3
having count(*) > 1
