-- The version of each (week, tier, kind) partition that marts use: the newest one known as of run_var('as_of')
-- (published by FINRA on or before that date, by its lastUpdateDate: never by when it was landed), for partitions due
-- by then. Older versions stay in the lake. Rule for versions without a date of their own: macros/point_in_time.sql.
with calendar as (
    select partition_start as week_start_date, tier, due_date
    from {{ ref('stg_reference__publication_calendar') }}
    where dataset = 'finra-weekly'
),

known as (
    select
        v.*,
        c.due_date,
        {{ known_on('v.published_on', 'c.due_date', 'cast(v.landed_at as date)',
                    'v.week_start_date, v.tier, v.venue_kind', 'v.version_id') }} as known_on
    from {{ ref('stg_lake__finra_weekly_versions') }} as v
    left join calendar as c using (week_start_date, tier)
)

select *
from known
where {{ known_as_of('known_on', 'due_date') }}
qualify row_number() over (partition by week_start_date, tier, venue_kind order by version_id desc) = 1
