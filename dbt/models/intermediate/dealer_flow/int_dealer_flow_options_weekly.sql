-- Options context per week and underlying for the dealer-flow view: end-of-week GEX levels (the week's last trade date
-- in gex_levels_daily) and the week's OCC cleared volume by account type, each with its publication date and status
-- ('final' once the week's last business day is in, else 'provisional').
with business_days as (
    select {{ week_of('partition_start') }} as week_start_date,
           max(partition_start)            as last_business_day,
           count(*)                        as business_days
    from {{ source('reference', 'publication_calendar') }}
    where dataset = 'options-chain'
    group by 1
),

gex as (
    select {{ week_of('as_of_date') }} as week_start_date, underlying as symbol, *
    from {{ relation_or_empty('gex_levels_daily', {
        'as_of_date': 'date', 'underlying': 'varchar', 'spot': 'decimal(18, 4)',
        'total_gex_usd_per_1pct': 'decimal(38, 2)', 'call_gex_usd_per_1pct': 'decimal(38, 2)',
        'put_gex_usd_per_1pct': 'decimal(38, 2)', 'gex_0dte_share': 'double', 'regime': 'varchar',
        'zero_gamma': 'double', 'call_wall': 'decimal(18, 3)', 'put_wall': 'decimal(18, 3)'}) }}
    qualify row_number() over (partition by {{ week_of('as_of_date') }}, underlying order by as_of_date desc) = 1
),

occ as (
    select
        {{ week_of('trade_date') }}                                                                   as week_start_date,
        underlying                                                                                    as symbol,
        cast(sum(call_contracts) filter (where account_type = 'customer') as bigint)                  as occ_customer_call_contracts,
        cast(sum(put_contracts) filter (where account_type = 'customer') as bigint)                   as occ_customer_put_contracts,
        cast(sum(call_contracts) filter (where account_type = 'market_maker') as bigint)              as occ_market_maker_call_contracts,
        cast(sum(put_contracts) filter (where account_type = 'market_maker') as bigint)               as occ_market_maker_put_contracts,
        cast(sum(call_contracts) filter (where account_type = 'firm') as bigint)                      as occ_firm_call_contracts,
        cast(sum(put_contracts) filter (where account_type = 'firm') as bigint)                       as occ_firm_put_contracts,
        cast(sum(total_contracts) as bigint)                                                          as occ_total_contracts,
        count(distinct trade_date)                                                                    as occ_trading_days,
        max(trade_date)                                                                               as occ_last_trade_date
    from {{ relation_or_empty('occ_volume_daily', {
        'trade_date': 'date', 'underlying': 'varchar', 'account_type': 'varchar', 'call_contracts': 'bigint',
        'put_contracts': 'bigint', 'total_contracts': 'bigint'}) }}
    group by 1, 2
)

select
    coalesce(g.week_start_date, o.week_start_date)                                 as week_start_date,
    coalesce(g.symbol, o.symbol)                                                   as symbol,
    g.as_of_date                                                                   as gex_as_of_date,
    g.spot                                                                         as gex_spot,
    g.total_gex_usd_per_1pct,
    g.call_gex_usd_per_1pct,
    g.put_gex_usd_per_1pct,
    g.gex_0dte_share,
    g.zero_gamma,
    g.call_wall,
    g.put_wall,
    g.regime                                                                       as gex_regime,
    -- A chain is due on its trade date (publication calendar): the end-of-week GEX is known from then.
    g.as_of_date                                                                   as gex_published_on,
    case when g.as_of_date is null then 'missing'
         when g.as_of_date >= b.last_business_day then 'final' else 'provisional' end as gex_status,
    o.occ_customer_call_contracts,
    o.occ_customer_put_contracts,
    o.occ_market_maker_call_contracts,
    o.occ_market_maker_put_contracts,
    o.occ_firm_call_contracts,
    o.occ_firm_put_contracts,
    o.occ_total_contracts,
    cast(o.occ_customer_put_contracts as double) / nullif(o.occ_customer_call_contracts, 0) as occ_customer_put_call_ratio,
    o.occ_trading_days,
    o.occ_last_trade_date                                                          as occ_published_on,
    case when o.occ_last_trade_date is null then 'missing'
         when o.occ_trading_days >= b.business_days then 'final' else 'provisional' end as occ_status
from gex as g
full outer join occ as o using (week_start_date, symbol)
left join business_days as b on b.week_start_date = coalesce(g.week_start_date, o.week_start_date)
