-- FINRA off-exchange context per week and symbol for the dealer-flow view: ATS fraction of off-exchange volume, venue
-- concentration, the persistence of a high ATS fraction, and when the week was published and whether it is final.
-- A symbol trades in one tier; should two tiers list it in a week, the tier with more off-exchange volume is kept.
{%- set lookback = var('ats_persistence_lookback_weeks') | int %}
{%- set min_history = var('ats_persistence_min_history_weeks') | int %}
with symbol_weeks as (
    select *
    from {{ relation_or_empty('symbol_offexchange_weekly', {
        'week_start_date': 'date', 'tier': 'varchar', 'symbol': 'varchar', 'ats_share_quantity': 'decimal(38, 6)',
        'otc_share_quantity': 'decimal(38, 6)', 'offexchange_share_quantity': 'decimal(38, 6)',
        'ats_fraction': 'double', 'venue_count': 'bigint', 'venue_hhi': 'double', 'top_venue': 'varchar',
        'top_venue_share': 'double'}) }}
    qualify row_number() over (partition by week_start_date, symbol order by offexchange_share_quantity desc, tier) = 1
),

versions as (
    select week_start_date, tier, venue_kind, known_on
    from {{ relation_or_empty('int_finra_weekly_current_versions', {
        'week_start_date': 'date', 'tier': 'varchar', 'venue_kind': 'varchar', 'known_on': 'date'}) }}
),

-- Final once every tier of the week is published for every venue kind FINRA reports (ATS; non-ATS from 2016-04-04).
week_completeness as (
    select week_start_date,
           count(distinct tier || '/' || venue_kind)
               = case when week_start_date >= date '2016-04-04' then 6 else 3 end as is_complete
    from versions
    group by 1
),

tier_publication as (
    select week_start_date, tier, max(known_on) as published_on
    from versions
    group by 1, 2
),

history as (
    select
        s.*,
        -- The symbol's median ATS fraction over the previous {{ lookback }} calendar weeks (this week excluded).
        median(s.ats_fraction) over prior_weeks                                         as ats_fraction_trailing_median,
        count(s.ats_fraction) over prior_weeks                                          as ats_fraction_history_weeks,
        s.week_start_date - lag(s.week_start_date) over (partition by s.symbol order by s.week_start_date) as days_since_previous
    from symbol_weeks as s
    window prior_weeks as (partition by s.symbol order by s.week_start_date
                       range between interval {{ lookback * 7 }} days preceding and interval 7 days preceding)
),

flagged as (
    select
        *,
        -- Null until {{ min_history }} earlier weeks of history exist.
        case when ats_fraction_history_weeks >= {{ min_history }}
             then ats_fraction > ats_fraction_trailing_median end                  as ats_above_trailing_median
    from history
),

runs as (
    select
        *,
        -- A run of weeks above the median breaks at a week that is not above it (or unknown) and at a missing week.
        sum(case when ats_above_trailing_median is distinct from true or days_since_previous is distinct from 7
                 then 1 else 0 end)
            over (partition by symbol order by week_start_date rows unbounded preceding) as run_id
    from flagged
)

select
    r.week_start_date,
    r.symbol,
    r.tier                                                                         as finra_tier,
    r.ats_share_quantity,
    r.otc_share_quantity,
    r.offexchange_share_quantity,
    r.ats_fraction,
    r.ats_fraction_trailing_median,
    r.ats_fraction_history_weeks,
    r.ats_above_trailing_median,
    -- Consecutive weeks, up to and including this one, with the ATS fraction above its trailing median.
    case when r.ats_above_trailing_median is not null
         then cast(sum(case when r.ats_above_trailing_median then 1 else 0 end)
                       over (partition by r.symbol, r.run_id order by r.week_start_date rows unbounded preceding) as integer)
    end                                                                            as ats_persistence_weeks,
    r.venue_count,
    r.venue_hhi,
    r.top_venue,
    r.top_venue_share,
    p.published_on                                                                 as finra_published_on,
    case when coalesce(c.is_complete, false) then 'final' else 'provisional' end   as finra_status
from runs as r
left join tier_publication as p using (week_start_date, tier)
left join week_completeness as c using (week_start_date)
