-- Per trade date and symbol, the Reg SHO rows the marts count: NMS symbols from the consolidated CNMS file when
-- it is landed for that date, otherwise the sum of the facility files (FNSQ + FNQC + FNYX + FNRA), never both;
-- OTC symbols from the FORF file only. ShortVolume already includes ShortExemptVolume.
with rows as (
    select r.*, v.trade_date as version_trade_date
    from {{ ref('stg_finra__regsho_daily') }} as r
    inner join {{ ref('int_regsho_daily_current_versions') }} as v
        on r.version_id = v.version_id and r.trade_date = v.trade_date and r.facility = v.facility
),

cnms_dates as (
    select distinct trade_date from {{ ref('int_regsho_daily_current_versions') }} where facility = 'CNMS'
),

component_files as (
    select trade_date, count(*) as component_files_landed
    from {{ ref('int_regsho_daily_current_versions') }}
    where facility in ('FNSQ', 'FNQC', 'FNYX', 'FNRA')
    group by 1
),

nms_consolidated as (
    select trade_date, symbol, 'NMS' as market_segment, 'CNMS' as volume_source, market as facility_markets,
           short_volume, short_exempt_volume, total_volume, true as is_complete
    from rows
    where facility = 'CNMS'
),

nms_from_facilities as (
    select r.trade_date, r.symbol, 'NMS' as market_segment, 'facility_sum' as volume_source,
           string_agg(r.market, ',' order by r.market) as facility_markets,
           sum(r.short_volume) as short_volume, sum(r.short_exempt_volume) as short_exempt_volume,
           sum(r.total_volume) as total_volume,
           -- Complete only when all four component files of the day are landed.
           max(f.component_files_landed) = 4 as is_complete
    from rows as r
    inner join component_files as f using (trade_date)
    where r.facility in ('FNSQ', 'FNQC', 'FNYX', 'FNRA')
      and r.trade_date not in (select trade_date from cnms_dates)
    group by 1, 2
),

otc as (
    select trade_date, symbol, 'OTC' as market_segment, 'FORF' as volume_source, market as facility_markets,
           short_volume, short_exempt_volume, total_volume, true as is_complete
    from rows
    where facility = 'FORF'
)

select * from nms_consolidated
union all
select * from nms_from_facilities
union all
select * from otc
