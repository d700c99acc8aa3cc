{{ config(meta={'dagster': {'ref': {'name': 'fails_to_deliver'}}}) }}
-- Each current fails-to-deliver version's rows add up to its trailer: record count and total quantity of shares.
with sums as (
    select version_id, count(*) as rows_in_mart, sum(quantity) as quantity_in_mart
    from {{ ref('fails_to_deliver') }} as f
    inner join {{ ref('int_sec_ftd_current_versions') }} as v using (period)
    group by 1
)
select v.period, v.trailer_record_count, s.rows_in_mart, v.trailer_total_quantity, s.quantity_in_mart
from {{ ref('int_sec_ftd_current_versions') }} as v
left join sums as s using (version_id)
where v.has_trailer
  and (s.rows_in_mart is distinct from v.trailer_record_count or s.quantity_in_mart is distinct from v.trailer_total_quantity)
