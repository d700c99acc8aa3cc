-- GEX headline numbers of the current gex version of every (trade date, underlying).
select l.*
from {{ ref('stg_gex__levels') }} as l
inner join {{ ref('int_gex_current_versions') }} as v
    on l.version_id = v.version_id
   and l.as_of_date = v.as_of_date
   and l.underlying = v.underlying
