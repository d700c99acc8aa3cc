-- The version of each (week, tier, kind) partition that marts use: the newest one known as of var('as_of')
-- (published by FINRA on or before that date), for partitions due by then. Older versions stay in the lake.
with calendar as (
    select partition_start as week_start_date, tier, due_date
    from {{ ref('stg_reference__publication_calendar') }}
    where dataset = 'finra-weekly'
),

known as (
    select
        v.*,
        c.due_date,
        coalesce(v.published_on, cast(v.landed_at as date)) as known_on
    from {{ ref('stg_lake__finra_weekly_versions') }} as v
    left join calendar as c using (week_start_date, tier)
)

select *
from known
where known_on <= date '{{ var("as_of") }}'
  and coalesce(due_date, date '{{ var("as_of") }}') <= date '{{ var("as_of") }}'
qualify row_number() over (partition by week_start_date, tier, venue_kind order by version_id desc) = 1
