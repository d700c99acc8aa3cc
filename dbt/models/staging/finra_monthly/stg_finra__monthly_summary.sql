-- FINRA monthlySummary rows (non-ATS OTC volume per month and tier NMS/OTCE) of every landed version: renamed and
-- typed. All grains are present (OTC_M_SMBL_FIRM, OTC_M_SMBL, OTC_M_FIRM); never sum across summary_type_code.
select
    monthStartDate                                    as month_start_date,
    tierIdentifier                                    as tier,
    summaryTypeCode                                   as summary_type_code,
    nullif(issueSymbolIdentifier, '')                 as symbol,
    issueName                                         as issue_name,
    productTypeCode                                   as product_type_code,
    firmCRDNumber                                     as firm_crd,
    marketParticipantName                             as firm_name,
    cast(totalMonthlyShareQuantity as decimal(38, 6)) as share_quantity,
    cast(totalMonthlyTradeCount as bigint)            as trade_count,
    cast(totalNotionalSum as decimal(38, 6))          as notional_sum,
    lastUpdateDate                                    as last_update_date,
    initialPublishedDate                              as initial_published_date,
    lastReportedDate                                  as last_reported_date,
    _version_id                                       as version_id
from {{ source('finra_monthly_lake', 'finra_monthly_summary') }}
