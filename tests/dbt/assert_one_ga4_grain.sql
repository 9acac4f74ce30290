{#- GA4 comes either as events or as a report (sales-insights build loads the other empty). A build with
    rows in both (a plain dbt build over a warehouse that held the other grain, say) would count the
    sessions twice in the funnel marts. -#}
with grains as (
    select
        (select count(*) from {{ ref('stg_ga4__events') }}) as events,
        (select count(*) from {{ ref('stg_ga4__funnel_report') }}) as report_rows,
        (select count(*) from {{ ref('fct_sessions') }}) as sessions
)

select * from grains
where report_rows > 0
    and (events > 0 or sessions > 0)
