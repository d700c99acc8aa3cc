{{ config(meta={'dagster': {'ref': {'name': 'int_regsho_daily_current_versions'}}}) }}
-- Where CNMS and all four component facility files are landed for a date, CNMS equals their per-symbol sums
-- (FINRA's consolidated file is exactly the sum of FNSQ, FNQC, FNYX and FNRA).
with current_rows as (
    select r.*
    from {{ ref('stg_finra__regsho_daily') }} as r
    inner join {{ ref('int_regsho_daily_current_versions') }} as v on r.version_id = v.version_id
),
complete_days as (
    select trade_date
    from {{ ref('int_regsho_daily_current_versions') }}
    where facility in ('CNMS', 'FNSQ', 'FNQC', 'FNYX', 'FNRA')
    group by 1
    having count(*) = 5
),
sums as (
    select trade_date, symbol, sum(short_volume) as sv, sum(short_exempt_volume) as sev, sum(total_volume) as tv
    from current_rows
    where facility in ('FNSQ', 'FNQC', 'FNYX', 'FNRA') and trade_date in (select trade_date from complete_days)
    group by 1, 2
),
cnms as (
    select trade_date, symbol, short_volume as sv, short_exempt_volume as sev, total_volume as tv
    from current_rows
    where facility = 'CNMS' and trade_date in (select trade_date from complete_days)
)
select coalesce(c.trade_date, s.trade_date) as trade_date, coalesce(c.symbol, s.symbol) as symbol,
       c.sv as cnms_short, s.sv as facility_short, c.tv as cnms_total, s.tv as facility_total
from cnms as c
full outer join sums as s using (trade_date, symbol)
where c.sv is distinct from s.sv or c.sev is distinct from s.sev or c.tv is distinct from s.tv
