{{ config(
    materialized='incremental',
    incremental_strategy='append',
    tags=['finra_monthly'],
    pre_hook="{% if is_incremental() %}delete from {{ this }} where month_start_date >= date '{{ run_var('month_start') }}' and month_start_date < date '{{ run_var('month_end') }}'{% endif %}"
) }}
-- Non-ATS OTC volume per month, tier (NMS, OTCE) and firm from FINRA's per-firm rows (OTC_M_FIRM); the per symbol x
-- firm rows (OTC_M_SMBL_FIRM) give the symbol count and are tested to add up to the firm rows. De Minimis Firms is a
-- bucket of many small firms: it counts in the volume shares but is not ranked. Regulatory Notice 19-29 removed the
-- de minimis aggregation from November 2019 (Tier 1 weeks from 2019-11-11, Tier 2/OTC from 2019-12-16), so the
-- attributable firm series break there.
with firms as (
    select *
    from {{ ref('int_finra_monthly_summary_current') }}
    where summary_type_code = 'OTC_M_FIRM'
    {% if is_incremental() %}
      and month_start_date >= date '{{ run_var("month_start") }}' and month_start_date < date '{{ run_var("month_end") }}'
    {% endif %}
),

symbols as (
    select month_start_date, tier, firm_name, count(distinct symbol) as symbol_count
    from {{ ref('int_finra_monthly_summary_current') }}
    where summary_type_code = 'OTC_M_SMBL_FIRM'
    {% if is_incremental() %}
      and month_start_date >= date '{{ run_var("month_start") }}' and month_start_date < date '{{ run_var("month_end") }}'
    {% endif %}
    group by 1, 2, 3
)

select
    f.month_start_date,
    f.tier,
    f.firm_name,
    f.firm_crd,
    f.is_de_minimis,
    f.share_quantity,
    f.trade_count,
    cast(f.share_quantity as double) / nullif(f.trade_count, 0)                                              as avg_trade_size,
    coalesce(s.symbol_count, 0)                                                                             as symbol_count,
    cast(f.share_quantity as double) / nullif(sum(f.share_quantity) over (partition by f.month_start_date, f.tier), 0) as non_ats_share,
    case when not f.is_de_minimis then
        cast(f.share_quantity as double)
            / nullif(sum(f.share_quantity) filter (where not f.is_de_minimis) over (partition by f.month_start_date, f.tier), 0)
    end                                                                                                     as attributable_share,
    case when not f.is_de_minimis then
        cast(rank() over (partition by f.month_start_date, f.tier, f.is_de_minimis order by f.share_quantity desc) as integer)
    end                                                                                                     as volume_rank,
    f.month_start_date < date '2019-11-01'                                                                  as is_before_de_minimis_change,
    case when f.month_start_date < date '2019-11-01' then 'before'
         when f.month_start_date < date '2020-01-01' then 'transition'
         else 'after' end                                                                                   as de_minimis_regime,
    f.due_date
from firms as f
left join symbols as s using (month_start_date, tier, firm_name)
