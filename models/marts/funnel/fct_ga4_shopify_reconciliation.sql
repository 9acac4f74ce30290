{#- Per day, Shopify's valid orders against GA4's purchase events, matched on transaction_id = order id.
    Shopify is the truth for orders and revenue. A matched order and a Shopify-only order count on the
    order's date; a GA4-only transaction on the date GA4 first reported it. Purchase events sent without a
    transaction id ('(not set)') match nothing: they are counted apart, on their own date. -#}
with orders as (
    select * from {{ ref('fct_orders') }}
),

ga4_transactions as (
    select * from {{ ref('int_ga4_transactions') }}
),

purchases_without_transaction as (
    select
        {{ to_reporting_date('event_at') }} as report_date,
        count(*) as purchase_events
    from {{ ref('stg_ga4__events') }}
    where event_name = 'purchase'
        and transaction_id is null
    group by {{ to_reporting_date('event_at') }}
),

report_rows as (
    select count(*) as report_rows from {{ ref('stg_ga4__funnel_report') }}
),

joined as (
    select
        orders.order_id,
        orders.is_valid,
        orders.source_name,
        orders.net_revenue,
        ga4_transactions.transaction_id,
        ga4_transactions.ga4_revenue,
        case
            when orders.is_valid then orders.order_date
            else ga4_transactions.reported_date
        end as report_date,
        case
            when orders.is_valid and ga4_transactions.transaction_id is not null then 'matched'
            when orders.is_valid then 'shopify_only'
            when orders.order_id is not null then 'ga4_only_invalid_order'
            else 'ga4_only_unknown_order'
        end as match_status
    from orders
    full outer join ga4_transactions
        on {{ dbt.safe_cast('orders.order_id', dbt.type_string()) }} = ga4_transactions.transaction_id
    where orders.is_valid or ga4_transactions.transaction_id is not null
),

daily as (
    select
        report_date,
        {{ count_where('is_valid') }} as shopify_orders,
        {{ count_where("is_valid and source_name = 'web'") }} as shopify_web_orders,
        sum(case when is_valid then net_revenue else 0 end) as shopify_net_revenue,
        {{ count_where('transaction_id is not null') }} as ga4_transactions,
        sum(coalesce(ga4_revenue, 0)) as ga4_revenue,
        {{ count_where("match_status = 'matched'") }} as matched_orders,
        {{ count_where("match_status = 'matched' and source_name = 'web'") }} as matched_web_orders,
        {{ count_where("match_status = 'shopify_only'") }} as shopify_only_orders,
        {{ count_where("match_status = 'ga4_only_invalid_order'") }} as ga4_only_invalid_orders,
        {{ count_where("match_status = 'ga4_only_unknown_order'") }} as ga4_only_unknown_orders
    from joined
    group by report_date
),

-- Days with orders or transactions, and days with only purchases without a transaction id.
days as (
    select
        coalesce(daily.report_date, purchases_without_transaction.report_date) as report_date,
        coalesce(daily.shopify_orders, 0) as shopify_orders,
        coalesce(daily.shopify_web_orders, 0) as shopify_web_orders,
        coalesce(daily.shopify_net_revenue, 0) as shopify_net_revenue,
        coalesce(daily.ga4_transactions, 0) as ga4_transactions,
        coalesce(daily.ga4_revenue, 0) as ga4_revenue,
        coalesce(daily.matched_orders, 0) as matched_orders,
        coalesce(daily.matched_web_orders, 0) as matched_web_orders,
        coalesce(daily.shopify_only_orders, 0) as shopify_only_orders,
        coalesce(daily.ga4_only_invalid_orders, 0) as ga4_only_invalid_orders,
        coalesce(daily.ga4_only_unknown_orders, 0) as ga4_only_unknown_orders,
        coalesce(purchases_without_transaction.purchase_events, 0) as ga4_purchases_without_transaction
    from daily
    full outer join purchases_without_transaction
        on daily.report_date = purchases_without_transaction.report_date
),

final as (
    select
        report_date,
        shopify_orders,
        shopify_web_orders,
        cast(shopify_net_revenue as {{ type_money() }}) as shopify_net_revenue,
        ga4_transactions,
        cast(ga4_revenue as {{ type_money() }}) as ga4_revenue,
        matched_orders,
        shopify_only_orders,
        ga4_only_invalid_orders,
        ga4_only_unknown_orders,
        ga4_purchases_without_transaction,
        -- GA4 at report grain has no transaction ids: how many orders GA4 saw is not measured.
        case
            when (select report_rows from report_rows) = 0 then {{ safe_divide('matched_orders', 'shopify_orders') }}
        end as tracking_coverage_rate,
        case
            when (select report_rows from report_rows) = 0
                then {{ safe_divide('matched_web_orders', 'shopify_web_orders') }}
        end as web_tracking_coverage_rate
    from days
)

select * from final
