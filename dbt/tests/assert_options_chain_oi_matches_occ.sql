{{ config(severity="warn", meta={"dagster": {"ref": {"name": "stg_occ__series_open_interest"}}}) }}
-- Where an OCC series-search snapshot was archived for the same trade date, the chain's open interest per series
-- (current chain version) equals OCC's, since both report the start-of-day open interest OCC publishes.
with chain as (
    select c.trade_date, c.underlying, c.root, c.expiration, c.strike_thousandths,
           sum(c.open_interest) filter (where c.option_type = 'C') as call_oi,
           sum(c.open_interest) filter (where c.option_type = 'P') as put_oi
    from {{ ref('stg_cboe__options_chain') }} as c
    inner join {{ ref('int_gex_current_versions') }} as v
        on c.version_id = v.chain_version_id
    group by all
),
occ as (
    select *
    from {{ ref('stg_occ__series_open_interest') }}
    qualify version_id = max(version_id) over (partition by trade_date, underlying)
)
select c.*, o.call_open_interest, o.put_open_interest
from chain as c
inner join occ as o using (trade_date, underlying, root, expiration, strike_thousandths)
where c.call_oi <> o.call_open_interest or c.put_oi <> o.put_open_interest
