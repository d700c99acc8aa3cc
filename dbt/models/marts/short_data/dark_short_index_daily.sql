-- DIX-style dark short index per trade date: sum(P * ShortVolume) / sum(P * TotalVolume) over a universe of NMS
-- symbols. Dollar-weighted when priced symbols carry at least var('dix_min_priced_fraction') of the universe's
-- volume (price source stated), otherwise share-weighted and labelled weighting = 'shares'.
{%- set universe = var('dix_universe') %}
{%- set weekly = load_relation(ref('symbol_offexchange_weekly')) if execute and universe == 'finra_t1' else none %}
-- depends_on: {{ ref('symbol_offexchange_weekly') }}
with nms as (
    select trade_date, symbol, short_volume, total_volume
    from {{ ref('short_volume_daily') }}
    where market_segment = 'NMS'
),

{% if universe is string and universe == 'finra_t1' and weekly is not none %}
tier1 as (
    select distinct week_start_date, symbol from {{ weekly }} where tier = 'T1'
),

universe_members as (
    -- FINRA Tier 1 symbols of the trade date's week where the weekly marts hold that week, else every NMS symbol.
    select n.*,
           case when exists (select 1 from tier1 as t where t.week_start_date = cast(date_trunc('week', n.trade_date) as date))
                then 'finra_tier1_week' else 'all_nms_symbols' end as universe
    from nms as n
),

universe_rows as (
    select u.*
    from universe_members as u
    where u.universe = 'all_nms_symbols'
       or exists (select 1 from tier1 as t
                  where t.week_start_date = cast(date_trunc('week', u.trade_date) as date) and t.symbol = u.symbol)
),
{% elif universe is string and universe in ('finra_t1', 'all_nms') %}
universe_rows as (
    select *, 'all_nms_symbols' as universe from nms
),
{% else %}
universe_rows as (
    select *, 'custom' as universe from nms
    where symbol in ({% for s in universe %}'{{ s }}'{% if not loop.last %}, {% endif %}{% endfor %})
),
{% endif %}

prices as (
    select * from {{ ref('int_short_data_prices') }}
),

priced as (
    select u.*, p.price, p.price_source, p.price_date
    from universe_rows as u
    asof left join prices as p
        on u.symbol = p.symbol and u.trade_date >= p.price_date
),

usable as (
    select *,
           price is not null and trade_date - price_date <= {{ var('dix_max_price_age_days') }} as has_price
    from priced
),

daily as (
    select
        trade_date,
        max(universe)                                                                   as universe,
        count(*)                                                                        as symbol_count,
        count(*) filter (where has_price)                                               as symbols_priced,
        sum(short_volume)                                                               as short_volume,
        sum(total_volume)                                                               as total_volume,
        coalesce(sum(total_volume) filter (where has_price), 0)                         as priced_total_volume,
        sum(price * short_volume) filter (where has_price)                              as short_dollar_volume,
        sum(price * total_volume) filter (where has_price)                              as total_dollar_volume,
        max(price_source) filter (where has_price)                                      as priced_source
    from usable
    group by 1
),

weighted as (
    select *,
           cast(priced_total_volume as double) / nullif(total_volume, 0)               as priced_volume_fraction,
           case when cast(priced_total_volume as double) / nullif(total_volume, 0) >= {{ var('dix_min_priced_fraction') }}
                     and total_dollar_volume > 0
                then 'dollars' else 'shares' end                                       as weighting
    from daily
)

select
    trade_date,
    universe,
    weighting,
    case when weighting = 'dollars' then priced_source end                               as price_source,
    case when weighting = 'dollars' then cast(short_dollar_volume as double) / total_dollar_volume
         else cast(short_volume as double) / nullif(total_volume, 0) end                 as dark_short_index,
    cast(short_volume as double) / nullif(total_volume, 0)                               as short_ratio_share_weighted,
    symbol_count,
    symbols_priced,
    priced_volume_fraction,
    short_volume,
    total_volume,
    case when weighting = 'dollars' then short_dollar_volume end                          as short_dollar_volume,
    case when weighting = 'dollars' then total_dollar_volume end                          as total_dollar_volume
from weighted
