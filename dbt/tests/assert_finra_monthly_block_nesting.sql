-- Per venue and month, a combined block category is a subset of both its parents, in trades and in shares:
-- 10K-200K <= min(10K, 200K) and 2K-100K <= min(2K, 100K). Returns one row per violation, naming venue and month.
with b as (
    select month_start_date, venue_kind, mpid, block_category, block_trade_count, block_share_quantity
    from {{ ref('int_finra_blocks_current') }}
),
pairs as (
    select * from (values ('10K-200K', '10K', '200K'), ('2K-100K', '2K', '100K')) as p(combined, left_parent, right_parent)
)
select
    c.month_start_date, c.venue_kind, c.mpid, p.combined,
    c.block_trade_count as combined_trades, l.block_trade_count as left_trades, r.block_trade_count as right_trades,
    c.block_share_quantity as combined_shares, l.block_share_quantity as left_shares, r.block_share_quantity as right_shares
from pairs as p
join b as c on c.block_category = p.combined
join b as l on l.month_start_date = c.month_start_date and l.venue_kind = c.venue_kind and l.mpid = c.mpid
           and l.block_category = p.left_parent
join b as r on r.month_start_date = c.month_start_date and r.venue_kind = c.venue_kind and r.mpid = c.mpid
           and r.block_category = p.right_parent
where c.block_trade_count > least(l.block_trade_count, r.block_trade_count)
   or c.block_share_quantity > least(l.block_share_quantity, r.block_share_quantity)
