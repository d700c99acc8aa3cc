-- The version of each Reg SHO (trade date, facility) partition the marts use: the newest one known as of
-- run_var('as_of') for trade dates due by then. Flags a file observed before its publication time (calendar).
with calendar as (
    select partition_start as trade_date, due_date
    from {{ source('reference', 'publication_calendar') }}
    where dataset = 'regsho'
),

known as (
    select
        v.*,
        c.due_date,
        -- Reg SHO files carry no publication date: rule for dateless versions in macros/point_in_time.sql.
        {{ known_on('null', 'c.due_date', 'coalesce(cast(v.fetched_at as date), cast(v.landed_at as date))',
                    'v.trade_date, v.facility', 'v.version_id') }}                                       as known_on,
        -- Due after 18:00 ET on the trade date: the landing code compares the fetch time with the calendar's
        -- due moment; a file dated for a non-business day (no calendar row) is flagged too.
        coalesce(v.fetched_before_due_time, false) or c.due_date is null
            or coalesce(cast(v.fetched_at as date) < c.due_date, false)                      as published_before_due
    from {{ ref('stg_lake__regsho_daily_versions') }} as v
    left join calendar as c using (trade_date)
)

select *
from known
where {{ known_as_of('known_on', 'coalesce(due_date, trade_date)') }}
qualify row_number() over (partition by trade_date, facility order by version_id desc) = 1
