-- The gex version of each (trade date, underlying) the marts use: the newest landed one.
select *
from {{ ref('stg_lake__gex_versions') }}
qualify row_number() over (partition by as_of_date, underlying order by version_id desc) = 1
