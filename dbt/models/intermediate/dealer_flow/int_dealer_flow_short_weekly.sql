-- Short and settlement context per week and symbol for the dealer-flow view: Reg SHO short-volume ratio and SEC
-- fails-to-deliver per symbol. Their statuses need the row universe and are set in the mart (fails-to-deliver: which
-- half-month files covering the week are held; short interest: the latest settlement on or before the week's end).
with trading_days as (
    select {{ week_of('partition_start') }} as week_start_date, count(*) as business_days
    from {{ source('reference', 'publication_calendar') }}
    where dataset = 'regsho'
    group by 1
),

short_volume as (
    select *
    from {{ relation_or_empty('short_volume_weekly', {
        'week_start_date': 'date', 'symbol': 'varchar', 'market_segment': 'varchar', 'trading_days': 'bigint',
        'last_trade_date': 'date', 'short_volume': 'decimal(38, 6)', 'total_volume': 'decimal(38, 6)',
        'short_ratio': 'double', 'is_complete': 'boolean'}) }}
    -- A symbol sits in one market segment; should both list it, the one with more volume is kept.
    qualify row_number() over (partition by week_start_date, symbol order by total_volume desc, market_segment) = 1
),

fails as (
    select {{ week_of('settlement_date') }} as week_start_date, *
    from {{ relation_or_empty('fails_to_deliver', {
        'settlement_date': 'date', 'cusip': 'varchar', 'symbol': 'varchar', 'quantity': 'bigint'}) }}
    where symbol is not null
),

fails_weekly as (
    -- Quantities are balances outstanding: the week's sum is share-days of fails; the last balance is summed over the
    -- symbol's CUSIPs on the week's last settlement date.
    select
        week_start_date,
        symbol,
        cast(sum(quantity) as bigint)                                                        as ftd_fail_share_days,
        cast(max(quantity) as bigint)                                                        as ftd_max_quantity,
        max(settlement_date)                                                                 as ftd_last_settlement_date
    from fails
    group by 1, 2
),

fails_last as (
    select f.week_start_date, f.symbol, cast(sum(f.quantity) as bigint) as ftd_last_quantity
    from fails as f
    inner join fails_weekly as w
        on w.week_start_date = f.week_start_date and w.symbol = f.symbol and w.ftd_last_settlement_date = f.settlement_date
    group by 1, 2
)

select
    coalesce(s.week_start_date, f.week_start_date)                                           as week_start_date,
    coalesce(s.symbol, f.symbol)                                                             as symbol,
    s.short_volume,
    s.total_volume                                                                           as short_total_volume,
    s.short_ratio,
    s.trading_days                                                                           as short_volume_trading_days,
    -- Reg SHO files are due on their trade date (after 18:00 ET).
    s.last_trade_date                                                                        as short_volume_published_on,
    case when s.symbol is null then 'missing'
         when s.is_complete and s.trading_days >= t.business_days then 'final' else 'provisional' end as short_volume_status,
    f.ftd_fail_share_days,
    f.ftd_max_quantity,
    l.ftd_last_quantity,
    f.ftd_last_settlement_date
from short_volume as s
full outer join fails_weekly as f using (week_start_date, symbol)
left join fails_last as l
    on l.week_start_date = coalesce(s.week_start_date, f.week_start_date) and l.symbol = coalesce(s.symbol, f.symbol)
left join trading_days as t on t.week_start_date = coalesce(s.week_start_date, f.week_start_date)
