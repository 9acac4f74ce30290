{#- The headline metrics of metric_catalog() (macros/metrics), one row per metric and period: the last 28
    days and the 28 days before them, both ending on the last day that has sessions and orders, and all
    time. Cohort metrics (retention, CLV) have an all-time row only. Each value is computed by the metric's
    macro from the marts the report and the exports also show, with its numerator and denominator so a
    ratio can be re-aggregated. -#}
{%- set catalog = metric_catalog() -%}

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
),

order_bounds as (
    select
        min(order_date) as first_date,
        max(order_date) as last_date
    from orders_daily
),

bounds as (
    select
        least(funnel_bounds.first_date, order_bounds.first_date) as first_date,
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
    select
        funnel_by_period.period,
        'sessions' as metric,
        cast(funnel_by_period.sessions as {{ type_double() }}) as metric_value,
        cast(funnel_by_period.sessions as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator
    from funnel_by_period
    union all
    select
        funnel_by_period.period,
        'conversion_rate' as metric,
        {{ metric_conversion_rate('funnel_by_period.purchase_sessions', 'funnel_by_period.sessions') }}
            as metric_value,
        cast(funnel_by_period.purchase_sessions as {{ type_double() }}) as numerator,
        cast(funnel_by_period.sessions as {{ type_double() }}) as denominator
    from funnel_by_period
    union all
    select
        orders_by_period.period,
        'orders' as metric,
        cast(orders_by_period.orders as {{ type_double() }}) as metric_value,
        cast(orders_by_period.orders as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator
    from orders_by_period
    union all
    select
        orders_by_period.period,
        'net_revenue' as metric,
        cast(orders_by_period.net_revenue as {{ type_double() }}) as metric_value,
        cast(orders_by_period.net_revenue as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator
    from orders_by_period
    union all
    select
        orders_by_period.period,
        'average_order_value' as metric,
        cast(
            {{ metric_average_order_value('orders_by_period.net_revenue', 'orders_by_period.orders') }}
            as {{ type_double() }}
        ) as metric_value,
        cast(orders_by_period.net_revenue as {{ type_double() }}) as numerator,
        cast(orders_by_period.orders as {{ type_double() }}) as denominator
    from orders_by_period
    union all
    select
        month_1_retention.period,
        'month_1_retention_rate' as metric,
        {{ metric_retention_rate('month_1_retention.active_customers', 'month_1_retention.cohort_customers') }}
            as metric_value,
        cast(month_1_retention.active_customers as {{ type_double() }}) as numerator,
        cast(month_1_retention.cohort_customers as {{ type_double() }}) as denominator
    from month_1_retention
    union all
    select
        clv.period,
        'predicted_clv_12m' as metric,
        cast(clv.predicted_clv_12m_per_customer as {{ type_double() }}) as metric_value,
        cast(clv.predicted_clv_12m as {{ type_double() }}) as numerator,
        cast(clv.customers_with_prediction as {{ type_double() }}) as denominator
    from clv
),

catalog as (
    {%- for metric in catalog %}
    select
        {{ loop.index }} as metric_order,
        '{{ metric.name }}' as metric,
        '{{ metric.label }}' as metric_label,
        '{{ metric.unit }}' as unit,
        '{{ metric.definition | replace("'", "''") }}' as definition
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
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
        periods.period_start_date < bounds.first_date as is_partial_period,
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
