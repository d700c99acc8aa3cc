-- Reconciliation: block market share and block business share recomputed from FINRA's raw counts match FINRA's
-- published percents (converted on the detected scale) within var('finra_percent_tolerance'), and the recomputed
-- ranks equal FINRA's. A month whose percent scale could not be detected fails here too.
select month_start_date, venue_kind, mpid, block_category,
       finra_percent_scale,
       block_market_share, finra_block_market_share,
       block_business_share, finra_block_business_share,
       block_trade_rank, finra_block_trade_rank, block_share_rank, finra_block_share_rank,
       avg_block_size_rank, finra_avg_block_size_rank, block_business_share_rank, finra_block_business_share_rank
from {{ ref('block_activity_monthly') }}
where finra_percent_scale is null
   or abs(coalesce(block_market_share, 0) - finra_block_market_share) > {{ var('finra_percent_tolerance') }}
   or abs(coalesce(block_business_share, 0) - finra_block_business_share) > {{ var('finra_percent_tolerance') }}
   or block_trade_rank <> finra_block_trade_rank
   or block_share_rank <> finra_block_share_rank
   or avg_block_size_rank <> finra_avg_block_size_rank
   or block_business_share_rank <> finra_block_business_share_rank
