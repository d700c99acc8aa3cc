-- The dealer-flow view: one row per week (Monday) and symbol, stacking the sources by reliability -- options GEX first,
-- OCC volume by account type to confirm, FINRA ATS/OTC volume as context, short volume, fails-to-deliver and short
-- interest beside it -- each with the date it was published and whether it is final, and a caveat saying what the row
-- cannot tell. Rows: every FINRA symbol week plus every options underlying week (SPX/NDX have no FINRA rows).
{%- set min_history = var('ats_persistence_min_history_weeks') | int %}
with finra as (
    select * from {{ ref('int_dealer_flow_finra_weekly') }}
),

options as (
    select * from {{ ref('int_dealer_flow_options_weekly') }}
),

short as (
    select * from {{ ref('int_dealer_flow_short_weekly') }}
),

universe as (
    select week_start_date, symbol from finra
    union
    select week_start_date, symbol from options
),

-- SEC fails-to-deliver: the half-month files whose days overlap the week's Monday-Friday, and those held.
ftd_periods as (
    select partition_start as period_start,
           coalesce(lead(partition_start) over (order by partition_start) - 1, partition_start + 15) as period_end
    from {{ source('reference', 'publication_calendar') }}
    where dataset = 'ftd'
),

ftd_weeks as (
    select w.week_start_date,
           count(*)               as periods_due,
           count(c.period_start)  as periods_held,
           max(c.known_on)        as ftd_published_on
    from (select distinct week_start_date from universe) as w
    inner join ftd_periods as p
        on p.period_start <= w.week_start_date + 4 and p.period_end >= w.week_start_date
    left join {{ relation_or_empty('int_sec_ftd_current_versions', {'period_start': 'date', 'known_on': 'date'}) }} as c
        using (period_start)
    group by 1
),

-- FINRA short interest: the latest settlement on or before the week's end (Sunday), and the latest the calendar has.
short_interest as (
    select settlement_date, symbol, current_short, days_to_cover, due_date
    from {{ relation_or_empty('short_interest', {
        'settlement_date': 'date', 'symbol': 'varchar', 'current_short': 'bigint', 'days_to_cover': 'decimal(18, 2)',
        'due_date': 'date'}) }}
),

settlements as (
    select partition_start as settlement_date
    from {{ source('reference', 'publication_calendar') }}
    where dataset = 'short-interest'
),

matched_short_interest as (
    select u.*, si.settlement_date, si.current_short, si.days_to_cover, si.due_date
    from universe as u
    asof left join short_interest as si
        on si.symbol = u.symbol and u.week_start_date + 6 >= si.settlement_date
),

with_short_interest as (
    -- A settlement more than a month (two settlement cycles) before the week is too old to stand for it.
    select week_start_date, symbol, settlement_date as short_interest_settlement_date, current_short, days_to_cover,
           due_date as short_interest_published_on
    from matched_short_interest
    where settlement_date >= week_start_date - 31
),

latest_settlement as (
    select w.week_start_date, max(s.settlement_date) as latest_settlement_date
    from (select distinct week_start_date from universe) as w
    inner join settlements as s on s.settlement_date <= w.week_start_date + 6
    group by 1
),

joined as (
    select
        u.week_start_date,
        u.symbol,
        f.finra_tier,
        -- options GEX (primary)
        o.gex_as_of_date,
        o.gex_spot,
        o.total_gex_usd_per_1pct,
        o.call_gex_usd_per_1pct,
        o.put_gex_usd_per_1pct,
        o.gex_0dte_share,
        o.zero_gamma,
        o.call_wall,
        o.put_wall,
        o.gex_regime,
        o.gex_published_on,
        coalesce(o.gex_status, 'missing')                                                        as gex_status,
        -- OCC cleared volume by account type (confirmation)
        o.occ_customer_call_contracts,
        o.occ_customer_put_contracts,
        o.occ_market_maker_call_contracts,
        o.occ_market_maker_put_contracts,
        o.occ_firm_call_contracts,
        o.occ_firm_put_contracts,
        o.occ_total_contracts,
        o.occ_customer_put_call_ratio,
        o.occ_trading_days,
        o.occ_published_on,
        coalesce(o.occ_status, 'missing')                                                        as occ_status,
        -- FINRA ATS / non-ATS off-exchange volume (context)
        f.ats_share_quantity,
        f.otc_share_quantity,
        f.offexchange_share_quantity,
        f.ats_fraction,
        f.ats_fraction_trailing_median,
        f.ats_fraction_history_weeks,
        f.ats_persistence_weeks,
        f.venue_count,
        f.venue_hhi,
        f.top_venue,
        f.top_venue_share,
        f.finra_published_on,
        coalesce(f.finra_status, 'missing')                                                      as finra_status,
        -- Reg SHO short volume (adjacent)
        s.short_volume,
        s.short_total_volume,
        s.short_ratio,
        s.short_volume_trading_days,
        s.short_volume_published_on,
        coalesce(s.short_volume_status, 'missing')                                               as short_volume_status,
        -- SEC fails-to-deliver (adjacent): the status describes the files; the SEC lists only symbols with fails
        s.ftd_fail_share_days,
        s.ftd_max_quantity,
        s.ftd_last_quantity,
        s.ftd_last_settlement_date,
        fw.ftd_published_on,
        case when coalesce(fw.periods_held, 0) = 0 then 'missing'
             when fw.periods_held = fw.periods_due then 'final' else 'provisional' end           as ftd_status,
        -- FINRA short interest (adjacent)
        si.short_interest_settlement_date,
        si.current_short                                                                         as short_interest,
        si.days_to_cover,
        si.short_interest_published_on,
        case when si.short_interest_settlement_date is null then 'missing'
             when si.short_interest_settlement_date = ls.latest_settlement_date then 'final'
             else 'provisional' end                                                              as short_interest_status
    from universe as u
    left join finra as f using (week_start_date, symbol)
    left join options as o using (week_start_date, symbol)
    left join short as s using (week_start_date, symbol)
    left join ftd_weeks as fw using (week_start_date)
    left join with_short_interest as si using (week_start_date, symbol)
    left join latest_settlement as ls using (week_start_date)
)

select
    *,
    concat_ws('; ',
        'Non-directional: no source here shows who bought or sold; this is positioning context, not trade direction',
        case when gex_status = 'missing' then 'no options GEX for this symbol and week'
             else 'GEX assumes dealers long calls and short puts on end-of-week open interest: a model of hedging '
                  || 'pressure, not reported dealer positions' end,
        case when gex_status = 'provisional' then 'GEX is from ' || strftime(gex_as_of_date, '%Y-%m-%d')
                                                  || ', before the week''s last session' end,
        case when occ_status <> 'missing' then 'OCC volume is cleared contracts by account type, with no buyer/seller '
                                               || 'or opening/closing side' end,
        case when finra_status = 'missing' then 'no FINRA off-exchange data for this symbol and week (not yet '
                                                || 'published, or not an OTC-reported equity)'
             else 'FINRA ATS/OTC volumes are non-directional and published 2-4 weeks after the week' end,
        case when finra_status = 'provisional' then 'FINRA week provisional: not every tier is published yet' end,
        case when finra_status <> 'missing' and ats_persistence_weeks is null
             then 'ATS persistence needs {{ min_history }} earlier weeks of FINRA history' end,
        case when short_volume_status <> 'missing' then 'short volume counts off-exchange (TRF) trades only, excludes '
                                                        || 'exchange-reported trades and includes market-maker hedging: '
                                                        || 'it is not short interest' end,
        case when ftd_status <> 'missing' then 'fails-to-deliver are settlement balances, published about two weeks '
                                               || 'after each half-month' end,
        case when short_interest_status <> 'missing'
             then 'short interest settled ' || strftime(short_interest_settlement_date, '%Y-%m-%d')
                  || ', published 7 business days after settlement' end
    )                                                                                            as caveats
from joined
