-- FINRA equity short interest per settlement date and symbol from the current version of each settlement date,
-- with its publication due date. days_to_cover is null where FINRA printed its 999.99 sentinel.
select
    r.settlement_date,
    r.symbol,
    r.issue_name,
    r.market_class,
    r.exchange_code,
    r.current_short,
    r.previous_short,
    r.change,
    r.change_percent,
    r.avg_daily_volume,
    r.days_to_cover,
    r.days_to_cover_sentinel,
    r.revision_flag,
    r.stock_split_flag,
    r.source_format,
    v.due_date
from {{ ref('stg_finra__short_interest') }} as r
inner join {{ ref('int_short_interest_current_versions') }} as v on r.version_id = v.version_id
