-- SEC fails-to-deliver per settlement date and CUSIP from the current version of each half-month file.
-- quantity is the balance of fails outstanding that day; notional = quantity * price (previous close), exact.
select
    r.settlement_date,
    r.cusip,
    r.symbol,
    r.description,
    r.quantity,
    r.price,
    cast(r.quantity * r.price as decimal(38, 6)) as notional,
    v.period
from {{ ref('stg_sec__fails_to_deliver') }} as r
inner join {{ ref('int_sec_ftd_current_versions') }} as v on r.version_id = v.version_id
