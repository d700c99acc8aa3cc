-- The version of each short-interest settlement date the marts use: the newest known as of run_var('as_of') among
-- settlement dates due by then, with its due date (7th business day after settlement) and an early-publication flag.
with calendar as (
    select partition_start as settlement_date, due_date
    from {{ source('reference', 'publication_calendar') }}
    where dataset = 'short-interest'
),

known as (
    select
        v.*,
        c.due_date,
        -- Short-interest files carry no publication date: rule for dateless versions in macros/point_in_time.sql.
        {{ known_on('null', 'c.due_date', 'coalesce(cast(v.fetched_at as date), cast(v.landed_at as date))',
                    'v.settlement_date', 'v.version_id') }}                                              as known_on,
        c.due_date is null or coalesce(cast(v.fetched_at as date) < c.due_date, false)      as published_before_due
    from {{ ref('stg_lake__short_interest_versions') }} as v
    left join calendar as c using (settlement_date)
)

select *
from known
where {{ known_as_of('known_on', 'coalesce(due_date, settlement_date)') }}
qualify row_number() over (partition by settlement_date order by version_id desc) = 1
