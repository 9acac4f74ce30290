{#- The headline metrics of metric_catalog() (macros/metrics), one row per metric and period: the last 28
    days and the 28 days before them, both ending on the last day that has sessions and orders, and all
    time. Cohort metrics (retention, CLV) have an all-time row only. Each value is computed by the metric's
    macro from the marts the report and the exports also show, with its numerator and denominator so a
    ratio can be re-aggregated. The definitions are the catalog's for the GA4 grain built (var ga4_grain):
    from GA4 reports, sessions and conversion mean GA4's sessions and an upper bound. -#}

with funnel_daily as (
    select * from {{ ref('fct_funnel_daily') }}
),

orders_daily as (
    select * from {{ ref('fct_orders_daily') }}
),

cohorts as (
    select * from {{ ref('fct_customer_cohorts') }}
),

customer_clv as (
    select * from {{ ref('fct_customer_clv') }}
),

funnel_bounds as (
    select
        min(session_date) as first_date,
        max(session_date) as last_date
    from funnel_daily
    where sessions > 0
),

-- The days with valid orders (fct_orders_daily also has days with only test or cancelled orders).
order_bounds as (
    select
        min(order_date) as first_date,
        max(order_date) as last_date
    from orders_daily
    where orders > 0
),

bounds as (
    select
        least(funnel_bounds.first_date, order_bounds.first_date) as first_date,
        -- a window that starts before both sources have data counts only part of its days
        greatest(funnel_bounds.first_date, order_bounds.first_date) as first_common_date,
        least(funnel_bounds.last_date, order_bounds.last_date) as last_common_date,
        greatest(funnel_bounds.last_date, order_bounds.last_date) as last_date
    from funnel_bounds
    cross join order_bounds
),

periods as (
    select
        'last_28_days' as period,
        cast({{ dbt.dateadd('day', -27, 'last_common_date') }} as date) as period_start_date,
        last_common_date as period_end_date
    from bounds
    union all
    select
        'previous_28_days' as period,
        cast({{ dbt.dateadd('day', -55, 'last_common_date') }} as date) as period_start_date,
        cast({{ dbt.dateadd('day', -28, 'last_common_date') }} as date) as period_end_date
    from bounds
    union all
    select
        'all_time' as period,
        first_date as period_start_date,
        last_date as period_end_date
    from bounds
),

funnel_by_period as (
    select
        periods.period,
        coalesce(sum(funnel_daily.sessions), 0) as sessions,
        coalesce(sum(funnel_daily.purchase_sessions), 0) as purchase_sessions
    from periods
    left join funnel_daily
        on funnel_daily.session_date between periods.period_start_date and periods.period_end_date
    group by periods.period
),

orders_by_period as (
    select
        periods.period,
        coalesce(sum(orders_daily.orders), 0) as orders,
        coalesce(sum(orders_daily.net_revenue), 0) as net_revenue
    from periods
    left join orders_daily
        on orders_daily.order_date between periods.period_start_date and periods.period_end_date
    group by periods.period
),

month_1_retention as (
    select
        'all_time' as period,
        coalesce(sum(active_customers), 0) as active_customers,
        coalesce(sum(cohort_size), 0) as cohort_customers
    from cohorts
    where months_since_first_order = 1
        and is_complete_month
),

clv as (
    select
        'all_time' as period,
        sum(predicted_clv_12m) as predicted_clv_12m,
        count(predicted_clv_12m) as customers_with_prediction,
        {{ metric_clv_per_customer('predicted_clv_12m') }} as predicted_clv_12m_per_customer
    from customer_clv
),

metric_values as (
    {#- (metric, the CTE it comes from, its value, numerator and denominator) -#}
    {%- set double = type_double() %}
    {%- set values = [
        ('sessions', 'funnel_by_period', 'sessions', 'sessions', none),
        ('conversion_rate', 'funnel_by_period',
            metric_conversion_rate('funnel_by_period.purchase_sessions', 'funnel_by_period.sessions'),
            'purchase_sessions', 'sessions'),
        ('orders', 'orders_by_period', 'orders', 'orders', none),
        ('net_revenue', 'orders_by_period', 'net_revenue', 'net_revenue', none),
        ('average_order_value', 'orders_by_period',
            metric_average_order_value('orders_by_period.net_revenue', 'orders_by_period.orders'),
            'net_revenue', 'orders'),
        ('month_1_retention_rate', 'month_1_retention',
            metric_retention_rate('month_1_retention.active_customers', 'month_1_retention.cohort_customers'),
            'active_customers', 'cohort_customers'),
        ('predicted_clv_12m', 'clv', 'predicted_clv_12m_per_customer', 'predicted_clv_12m',
            'customers_with_prediction'),
    ] %}
    {%- for metric, cte, value, numerator, denominator in values %}
    select
        {{ cte }}.period,
        '{{ metric }}' as metric,
        cast({{ value }} as {{ double }}) as metric_value,
        cast({{ cte }}.{{ numerator }} as {{ double }}) as numerator,
        cast({{ cte ~ '.' ~ denominator if denominator else 'null' }} as {{ double }}) as denominator
    from {{ cte }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

catalog as (
    {{ metric_catalog_rows() }}
),

final as (
    select
        {{ dbt.concat(['metric_values.metric', "'|'", 'metric_values.period']) }} as headline_metric_key,
        cast(catalog.metric_order as {{ dbt.type_int() }}) as metric_order,
        metric_values.metric,
        catalog.metric_label,
        catalog.unit,
        catalog.definition,
        metric_values.period,
        periods.period_start_date,
        periods.period_end_date,
        metric_values.period <> 'all_time'
        and periods.period_start_date < bounds.first_common_date as is_partial_period,
        metric_values.metric_value,
        metric_values.numerator,
        metric_values.denominator
    from metric_values
    inner join catalog
        on metric_values.metric = catalog.metric
    inner join periods
        on metric_values.period = periods.period
    cross join bounds
)

select * from final
