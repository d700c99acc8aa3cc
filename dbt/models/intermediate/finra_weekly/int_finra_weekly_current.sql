-- Rows of the current version of every FINRA weekly partition, all grains (filter one grain before summing).
select
    r.*,
    left(r.summary_type_code, 3)                                              as venue_kind,
    -- Non-ATS firms have no MPID in FINRA's data: the firm name is their identifier.
    case when left(r.summary_type_code, 3) = 'ATS' then coalesce(r.mpid, r.participant_name)
         else r.participant_name end                                          as venue_id,
    coalesce(r.firm_crd = 0 or lower(r.participant_name) = 'de minimis firms', false) as is_de_minimis,
    v.due_date
from {{ ref('stg_finra__weekly_summary') }} as r
inner join {{ ref('int_finra_weekly_current_versions') }} as v
    on r.version_id = v.version_id
   and r.week_start_date = v.week_start_date
   and r.tier = v.tier
