-- A venue's block trades and shares in any category never exceed its total trades and shares of the month.
select month_start_date, venue_kind, mpid, block_category,
       block_trade_count, total_trade_count, block_share_quantity, total_share_quantity
from {{ ref('int_finra_blocks_current') }}
where block_trade_count > total_trade_count or block_share_quantity > total_share_quantity
