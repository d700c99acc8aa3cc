-- monthlySummary rows of the current version of every (month, tier), all grains, with the De Minimis flag.
select
    r.*,
    coalesce(r.firm_crd = 0 or lower(r.firm_name) = 'de minimis firms', false) as is_de_minimis,
    v.due_date
from {{ ref('stg_finra__monthly_summary') }} as r
inner join {{ ref('int_finra_monthly_current_versions') }} as v
    on v.dataset = 'finra_monthly_summary'
   and v.version_id = r.version_id
   and v.month_start_date = r.month_start_date
   and v.tier = r.tier
