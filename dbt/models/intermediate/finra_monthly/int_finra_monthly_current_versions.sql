-- The version of each FINRA monthly lake partition that marts use: the newest one known as of run_var('as_of')
-- (published by FINRA on or before that date, by its lastUpdateDate; rule: macros/point_in_time.sql), for months due
-- by then. Older versions stay in the lake.
-- The due dates come straight from the reference calendar (dagster_project.publication_calendar).
with calendar as (
    select partition_start as month_start_date, due_date
    from {{ source('reference', 'publication_calendar') }}
    where dataset = 'finra-monthly'
),

known as (
    select
        v.*,
        c.due_date,
        {{ known_on('v.published_on', 'c.due_date', 'cast(v.landed_at as date)',
                    'v.dataset, v.month_start_date, v.tier', 'v.version_id') }} as known_on
    from {{ ref('stg_lake__finra_monthly_versions') }} as v
    left join calendar as c using (month_start_date)
)

select *
from known
where {{ known_as_of('known_on', 'due_date') }}
qualify row_number() over (partition by dataset, month_start_date, tier order by version_id desc) = 1
