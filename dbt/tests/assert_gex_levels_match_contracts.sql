{{ config(meta={"dagster": {"ref": {"name": "int_gex_levels_current"}}}) }}
-- Reconciliation: each day's total GEX (computed in Python) equals the sum of its per-contract primitive (summed in
-- SQL), in both units and for published gamma, within a relative 1e-9 (floating-point summation order).
with sums as (
    select as_of_date, underlying,
           sum(gex_usd_per_1pct)          as usd_1pct,
           sum(gex_source_usd_per_1pct)   as usd_1pct_source,
           sum(gex_shares_per_pt)         as shares_pt
    from {{ ref('int_gex_contracts_current') }}
    group by 1, 2
)
select l.as_of_date, l.underlying, l.total_gex_usd_per_1pct, s.usd_1pct, l.total_gex_usd_per_1pct_source_gamma,
       s.usd_1pct_source, l.total_gex_shares_per_pt, s.shares_pt
from {{ ref('int_gex_levels_current') }} as l
left join sums as s using (as_of_date, underlying)
where s.usd_1pct is null
   or abs(l.total_gex_usd_per_1pct - s.usd_1pct) > 1e-9 * greatest(abs(s.usd_1pct), 1)
   or abs(l.total_gex_usd_per_1pct_source_gamma - s.usd_1pct_source) > 1e-9 * greatest(abs(s.usd_1pct_source), 1)
   or abs(l.total_gex_shares_per_pt - s.shares_pt) > 1e-9 * greatest(abs(s.shares_pt), 1)
