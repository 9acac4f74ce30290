{#- Valid orders and net revenue agree between fct_orders, fct_orders_daily and the reconciliation. -#}
with order_totals as (
    select
        {{ count_where('is_valid') }} as orders,
        sum(net_revenue) as net_revenue
    from {{ ref('fct_orders') }}
),

daily_totals as (
    select
        sum(orders) as orders,
        sum(net_revenue) as net_revenue
    from {{ ref('fct_orders_daily') }}
),

reconciliation_totals as (
    select
        sum(shopify_orders) as orders,
        sum(shopify_net_revenue) as net_revenue,
        sum(matched_orders + shopify_only_orders) as matched_plus_shopify_only
    from {{ ref('fct_ga4_shopify_reconciliation') }}
)

select *  -- every column of the one-row totals it compares -- noqa: RF02
from order_totals
cross join daily_totals
cross join reconciliation_totals
where order_totals.orders <> daily_totals.orders
    or order_totals.net_revenue <> daily_totals.net_revenue
    or order_totals.orders <> reconciliation_totals.orders
    or order_totals.net_revenue <> reconciliation_totals.net_revenue
    or reconciliation_totals.orders <> reconciliation_totals.matched_plus_shopify_only
