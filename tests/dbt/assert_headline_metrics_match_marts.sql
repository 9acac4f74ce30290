{#- Every row of fct_headline_metrics, recomputed from the row-level marts (sessions, orders, customers)
    rather than the daily and cohort marts it reads: a headline number is the number of the marts below.
    Returns the rows that differ (beyond float rounding) or are missing. -#}
with headline as (
    select * from {{ ref('fct_headline_metrics') }}
),

sessions as (
    select * from {{ ref('fct_sessions') }}
),

orders as (
    select * from {{ ref('fct_orders') }}
    where is_valid
),

periods as (
    select distinct
        period,
        period_start_date,
        period_end_date
    from headline
),

-- GA4 as events (fct_sessions) or at report grain (its daily rows): one of the two has rows.
session_rows as (
    select
        session_date,
        1 as sessions,
        case when reached_purchase then 1 else 0 end as purchase_sessions
    from sessions
    union all
    select
        report_date as session_date,
        sessions,
        -- a purchase counts in the closed funnel only after begin_checkout and add_to_cart: capped at both
        least(purchase_sessions, begin_checkout_sessions, add_to_cart_sessions) as purchase_sessions
    from {{ ref('stg_ga4__funnel_report') }}
),

session_totals as (
    select
        periods.period,
        coalesce(sum(session_rows.sessions), 0) as sessions,
        coalesce(sum(session_rows.purchase_sessions), 0) as purchase_sessions
    from periods
    left join session_rows
        on session_rows.session_date between periods.period_start_date and periods.period_end_date
    group by periods.period
),

order_totals as (
    select
        periods.period,
        count(orders.order_id) as orders,
        coalesce(sum(orders.net_revenue), 0) as net_revenue
    from periods
    left join orders
        on orders.order_date between periods.period_start_date and periods.period_end_date
    group by periods.period
),

last_month as (
    select
        cast({{ dbt.date_trunc('month', 'max(order_date)') }} as date) as month_start,
        max(order_date) as last_order_date
    from orders
),

-- Month 1 of a customer: the calendar month after the month of the first valid order; it counts once
-- it is over (or the data reach its last day).
customer_month_1 as (
    select
        customers.customer_id,
        cast({{ dbt.dateadd('month', 1, 'customers.cohort_month') }} as date) as month_1_start
    from {{ ref('dim_customers') }} as customers
    where customers.cohort_month is not null
),

retention as (
    select
        'all_time' as period,
        count(distinct customer_month_1.customer_id) as cohort_customers,
        count(distinct month_1_orders.customer_id) as active_customers
    from customer_month_1
    cross join last_month
    left join orders as month_1_orders
        on customer_month_1.customer_id = month_1_orders.customer_id
        and cast({{ dbt.date_trunc('month', 'month_1_orders.order_date') }} as date) = customer_month_1.month_1_start
    where customer_month_1.month_1_start < last_month.month_start
        or (
            customer_month_1.month_1_start = last_month.month_start
            and last_month.last_order_date = cast({{ dbt.last_day('last_month.month_start', 'month') }} as date)
        )
),

clv_total as (
    select
        'all_time' as period,
        avg(cast(predicted_clv_12m as {{ type_double() }})) as average_clv
    from {{ ref('fct_customer_clv') }}
),

expected as (
    {%- for metric, source, value in [
        ('sessions', 'session_totals', 'cast(sessions as ' ~ type_double() ~ ')'),
        ('conversion_rate', 'session_totals', safe_divide('purchase_sessions', 'sessions')),
        ('orders', 'order_totals', 'cast(orders as ' ~ type_double() ~ ')'),
        ('net_revenue', 'order_totals', 'cast(net_revenue as ' ~ type_double() ~ ')'),
        ('average_order_value', 'order_totals', money_divide('net_revenue', 'orders')),
        ('month_1_retention_rate', 'retention', safe_divide('active_customers', 'cohort_customers')),
        ('predicted_clv_12m', 'clv_total', 'cast(average_clv as ' ~ type_money() ~ ')'),
    ] %}
    select
        period,
        '{{ metric }}' as metric,
        cast({{ value }} as {{ type_double() }}) as expected_value
    from {{ source }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    coalesce(headline.metric, expected.metric) as metric,
    coalesce(headline.period, expected.period) as period,
    headline.metric_value,
    expected.expected_value
from headline
full outer join expected
    on headline.metric = expected.metric
    and headline.period = expected.period
where headline.metric is null
    or expected.metric is null
    or not {{ null_safe_equals('round(headline.metric_value, 6)', 'round(expected.expected_value, 6)') }}
