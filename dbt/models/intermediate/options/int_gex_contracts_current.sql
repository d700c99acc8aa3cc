-- Per-contract GEX of the current gex version of every (trade date, underlying).
select c.*
from {{ ref('stg_gex__contracts') }} as c
inner join {{ ref('int_gex_current_versions') }} as v
    on c.version_id = v.version_id
   and c.as_of_date = v.as_of_date
   and c.underlying = v.underlying
