{#- The cohort triangle holds every valid customer order: its revenue and orders add up to the
    customers' net revenue and orders, and month 0 of each cohort has every cohort customer active. -#}
with triangle as (
    select
        sum(net_revenue) as net_revenue,
        sum(orders) as orders
    from {{ ref('fct_customer_cohorts') }}
),

customers as (
    select
        sum(net_revenue) as net_revenue,
        sum(orders) as orders
    from {{ ref('dim_customers') }}
),

first_months as (
    select count(*) as broken_first_months
    from {{ ref('fct_customer_cohorts') }}
    where months_since_first_order = 0
        and active_customers <> cohort_size
)

select *  -- every column of the one-row totals it compares -- noqa: RF02
from triangle
cross join customers
cross join first_months
where triangle.net_revenue <> customers.net_revenue
    or triangle.orders <> customers.orders
    or first_months.broken_first_months > 0
