-- The version of each SEC fails-to-deliver half-month the marts use: the newest known as of run_var('as_of'), with the
-- calendar's expected publication date and a flag when the file's own stamp (or fetch date) precedes it.
with calendar as (
    select partition_start as period_start, due_date
    from {{ source('reference', 'publication_calendar') }}
    where dataset = 'ftd'
),

known as (
    select
        v.*,
        c.due_date,
        coalesce(v.member_stamp, cast(v.fetched_at as date))                                 as published_on,
        -- The zip member's stamp is the SEC's own publication date; rule for files without one in
        -- macros/point_in_time.sql.
        {{ known_on('v.member_stamp', 'c.due_date', 'coalesce(cast(v.fetched_at as date), cast(v.landed_at as date))',
                    'v.period', 'v.version_id') }}                                                       as known_on,
        coalesce(coalesce(v.member_stamp, cast(v.fetched_at as date)) < c.due_date, false)   as published_before_due
    from {{ ref('stg_lake__sec_ftd_versions') }} as v
    left join calendar as c using (period_start)
)

select *
from known
where {{ known_as_of('known_on', 'coalesce(due_date, period_end)') }}
qualify row_number() over (partition by period order by version_id desc) = 1
