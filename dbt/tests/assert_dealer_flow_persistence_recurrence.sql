-- ATS persistence obeys its recurrence: unknown (null) without enough history; 0 when the week is not above its
-- trailing median; otherwise 1 + the previous calendar week's persistence, counting a missing or unknown previous
-- week as 0. Rows returned break it.
with df as (
    select week_start_date, symbol, ats_fraction, ats_fraction_trailing_median, ats_fraction_history_weeks,
           ats_persistence_weeks
    from {{ ref('dealer_flow_weekly') }}
    where finra_status <> 'missing'
)

select cur.*, prev.ats_persistence_weeks as previous_persistence
from df as cur
left join df as prev on prev.symbol = cur.symbol and prev.week_start_date = cur.week_start_date - 7
where (cur.ats_fraction_history_weeks < {{ var('ats_persistence_min_history_weeks') }} or cur.ats_fraction is null)
      <> (cur.ats_persistence_weeks is null)
   or (cur.ats_persistence_weeks is not null and cur.ats_persistence_weeks <>
       case when cur.ats_fraction > cur.ats_fraction_trailing_median then 1 + coalesce(prev.ats_persistence_weeks, 0) else 0 end)
