-- The gex version of each (trade date, underlying) the marts use: the newest one known as of run_var('as_of') for trade
-- dates due by then. A gex version is known when the Cboe quote it was derived from was published (the quote time's
-- New York date, the data's own date), not when it was landed; rule for versions without one: macros/point_in_time.sql.
with calendar as (
    select partition_start as as_of_date, due_date
    from {{ source('reference', 'publication_calendar') }}
    where dataset = 'options-chain'
),

quoted as (
    select version_id, min(cast(timezone('America/New_York', quote_time) as date)) as quoted_on
    from {{ ref('stg_gex__levels') }}
    group by 1
),

known as (
    select
        v.*,
        c.due_date,
        q.quoted_on,
        {{ known_on('q.quoted_on', 'c.due_date', 'cast(v.landed_at as date)', 'v.as_of_date, v.underlying',
                    'v.version_id') }} as known_on
    from {{ ref('stg_lake__gex_versions') }} as v
    left join calendar as c using (as_of_date)
    left join quoted as q using (version_id)
)

select *
from known
where {{ known_as_of('known_on', 'coalesce(due_date, as_of_date)') }}
qualify row_number() over (partition by as_of_date, underlying order by version_id desc) = 1
