with orders as (
    select * from {{ ref('stg_shopify__orders') }}
),

refunds as (
    select
        order_id,
        count(*) as refunds,
        sum(refund_amount) as refunded_amount
    from {{ ref('stg_shopify__refunds') }}
    group by order_id
),

lines as (
    select
        order_id,
        count(*) as order_lines,
        sum(quantity) as units
    from {{ ref('stg_shopify__order_lines') }}
    group by order_id
),

ga4_transactions as (
    select * from {{ ref('int_ga4_transactions') }}
),

classified as (
    select
        orders.*,
        {{ metric_is_valid_order('orders.is_test', 'orders.cancelled_at') }} as is_valid,
        coalesce(refunds.refunds, 0) as refunds,
        cast(coalesce(refunds.refunded_amount, 0) as {{ type_money() }}) as refunded_amount,
        coalesce(lines.order_lines, 0) as order_lines,
        coalesce(lines.units, 0) as units,
        ga4_transactions.transaction_id is not null as is_tracked_in_ga4,
        ga4_transactions.session_key as ga4_session_key
    from orders
    left join refunds
        on orders.order_id = refunds.order_id
    left join lines
        on orders.order_id = lines.order_id
    left join ga4_transactions
        on {{ dbt.safe_cast('orders.order_id', dbt.type_string()) }} = ga4_transactions.transaction_id
),

sequenced as (
    select
        *,
        case
            when is_valid and customer_id is not null
                then row_number() over (partition by customer_id, is_valid order by created_at, order_id)
        end as customer_order_number
    from classified
),

final as (
    select
        order_id,
        order_name,
        created_at,
        {{ to_reporting_date('created_at') }} as order_date,
        customer_id,
        customer_id is null as is_guest,
        is_test,
        cancelled_at is not null as is_cancelled,
        is_valid,
        cast(customer_order_number as {{ dbt.type_bigint() }}) as customer_order_number,
        coalesce(customer_order_number = 1, false) as is_first_order,
        source_name,
        financial_status,
        {{ url_path('landing_site') }} as landing_page,
        referring_site,
        order_lines,
        cast(units as {{ dbt.type_bigint() }}) as units,
        total_price as order_total_price,
        subtotal_price,
        total_discounts,
        total_tax,
        total_shipping,
        refunds,
        refunded_amount,
        case when is_valid then total_price else 0 end as gross_revenue,
        {{ metric_order_net_revenue('is_valid', 'total_price', 'refunded_amount') }} as net_revenue,
        is_tracked_in_ga4,
        ga4_session_key
    from sequenced
)

select * from final
