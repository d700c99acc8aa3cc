{{ config(meta={"dagster": {"ref": {"name": "int_gex_levels_current"}}}) }}
-- The call and put walls (Python) are the strikes with the largest |call| and |put| GEX summed over expiries (SQL).
with by_strike as (
    select as_of_date, underlying, strike,
           coalesce(sum(gex_usd_per_1pct) filter (where option_type = 'C'), 0) as call_gex,
           coalesce(sum(gex_usd_per_1pct) filter (where option_type = 'P'), 0) as put_gex
    from {{ ref('int_gex_contracts_current') }}
    group by 1, 2, 3
),
walls as (
    select as_of_date, underlying,
           arg_max(strike, abs(call_gex)) as call_wall,
           arg_max(strike, abs(put_gex))  as put_wall
    from by_strike
    group by 1, 2
)
select l.as_of_date, l.underlying, l.call_wall, w.call_wall as sql_call_wall, l.put_wall, w.put_wall as sql_put_wall
from {{ ref('int_gex_levels_current') }} as l
join walls as w using (as_of_date, underlying)
where l.call_wall <> w.call_wall or l.put_wall <> w.put_wall
