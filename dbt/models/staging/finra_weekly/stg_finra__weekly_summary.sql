-- FINRA weekly OTC transparency rows of every landed version: renamed and typed, nothing else.
select
    weekStartDate                                    as week_start_date,
    tierIdentifier                                   as tier,
    tierDescription                                  as tier_description,
    summaryTypeCode                                  as summary_type_code,
    nullif(issueSymbolIdentifier, '')                as symbol,
    issueName                                        as issue_name,
    nullif(MPID, '')                                 as mpid,
    firmCRDNumber                                    as firm_crd,
    marketParticipantName                            as participant_name,
    productTypeCode                                  as product_type_code,
    cast(totalWeeklyShareQuantity as decimal(38, 6)) as share_quantity,
    cast(totalWeeklyTradeCount as bigint)            as trade_count,
    cast(totalNotionalSum as decimal(38, 6))         as notional_sum,
    lastUpdateDate                                   as last_update_date,
    initialPublishedDate                             as initial_published_date,
    lastReportedDate                                 as last_reported_date,
    _version_id                                      as version_id
from {{ source('lake', 'finra_weekly') }}
