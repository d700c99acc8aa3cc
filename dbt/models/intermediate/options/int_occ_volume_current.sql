-- OCC volume-query rows of the newest landed version of each (trade date, underlying).
select *
from {{ ref('stg_occ__volume') }}
qualify version_id = max(version_id) over (partition by report_date, underlying)
