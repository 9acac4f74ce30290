{#- fct_headline_metrics words each metric as metric_catalog() does for the GA4 grain of this build (the var
    ga4_grain), and that grain is the one the funnel marts were built from: a build whose var says events
    over GA4 reports (or the reverse) would describe its sessions and conversion as those of the other
    grain. Returns each row worded otherwise, and the funnel basis that differs from the var. -#}
{%- set basis = 'events' if var('ga4_grain') == 'events' else 'ga4_report' %}

with headline as (
    select * from {{ ref('fct_headline_metrics') }}
),

funnel_daily as (
    select * from {{ ref('fct_funnel_daily') }}
),

catalog as (
    {{ metric_catalog_rows() }}
),

worded_otherwise as (
    select
        headline.metric,
        headline.definition as found,
        catalog.definition as expected
    from headline
    left join catalog
        on headline.metric = catalog.metric
    where not {{ null_safe_equals('headline.definition', 'catalog.definition') }}
),

other_basis as (
    select distinct
        'funnel_basis' as metric,
        funnel_basis as found,
        '{{ basis }}' as expected
    from funnel_daily
    where funnel_basis <> '{{ basis }}'
)

select * from worded_otherwise
union all
select * from other_basis
