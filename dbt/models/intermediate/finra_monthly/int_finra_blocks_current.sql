-- Block-size rows of the current version of every month, ATS (blocksSummary) and non-ATS (otcBlocksSummary) in one
-- shape, with FINRA's percents converted to fractions on the scale detected from the data itself:
-- per month and venue kind, FINRA's total-volume share percents of one category's venues add up to ~100 on a
-- 0-100 scale or ~1 on a 0-1 scale (each venue appears once per category). Anything else leaves the scale null,
-- which the reconciliation test reports.
with rows as (
    select b.*, 'finra_ats_blocks' as dataset from {{ ref('stg_finra__ats_blocks_summary') }} as b
    union all by name
    select b.*, 'finra_otc_blocks' as dataset from {{ ref('stg_finra__otc_blocks_summary') }} as b
),

current_rows as (
    select r.*, v.due_date
    from rows as r
    inner join {{ ref('int_finra_monthly_current_versions') }} as v
        on v.dataset = r.dataset and v.version_id = r.version_id and v.month_start_date = r.month_start_date
),

scale as (
    select
        month_start_date,
        venue_kind,
        sum(finra_share_percent) as finra_share_percent_total,
        case when abs(sum(finra_share_percent) - 100) <= 1 then 100
             when abs(sum(finra_share_percent) - 1) <= 0.01 then 1 end as finra_percent_scale
    from current_rows
    where block_category = '10K'
    group by 1, 2
)

select
    r.* exclude (dataset),
    lower(r.venue_name) = 'de minimis firms'                              as is_de_minimis,
    s.finra_percent_scale,
    s.finra_share_percent_total,
    r.finra_block_share_percent / s.finra_percent_scale                   as finra_block_market_share,
    r.finra_block_business_share_percent / s.finra_percent_scale          as finra_block_business_share
from current_rows as r
left join scale as s using (month_start_date, venue_kind)
