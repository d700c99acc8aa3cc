-- OCC volume-query rows of the version of each (trade date, underlying) the marts use: the newest one known as of
-- run_var('as_of') for trade dates due by then. OCC reports carry no publication date: the first version of a trade
-- date counts as published on its due date, a later one from the day it was landed (macros/point_in_time.sql).
with calendar as (
    select partition_start as report_date, due_date
    from {{ source('reference', 'publication_calendar') }}
    where dataset = 'occ'
),

versions as (
    select distinct report_date, underlying, version_id
    from {{ ref('stg_occ__volume') }}
),

known as (
    select
        v.*,
        c.due_date,
        {{ known_on('null', 'c.due_date', version_landed_on('v.version_id'), 'v.report_date, v.underlying',
                    'v.version_id') }} as known_on
    from versions as v
    left join calendar as c using (report_date)
),

current_versions as (
    select *
    from known
    where {{ known_as_of('known_on', 'coalesce(due_date, report_date)') }}
    qualify row_number() over (partition by report_date, underlying order by version_id desc) = 1
)

select r.*
from {{ ref('stg_occ__volume') }} as r
inner join current_versions as v using (report_date, underlying, version_id)
