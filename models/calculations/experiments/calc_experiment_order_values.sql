{#- The order facts the upsell tests read, one row: the shop's average order value and its spread, the valid orders
    whose subtotal falls just under the free-shipping threshold (var free_shipping_threshold, within
    var free_shipping_band), and how repeat customers' second orders compare with their first. -#}
with orders as (
    select * from {{ ref('fct_orders') }}
    where is_valid
),

first_two as (
    select
        customer_id,
        max(case when customer_order_number = 1 then net_revenue end) as first_order_value,
        max(case when customer_order_number = 2 then net_revenue end) as second_order_value
    from orders
    where customer_order_number <= 2
    group by customer_id
    having count(*) = 2
),

final as (
    select
        (select count(*) from orders) as valid_orders,
        (select {{ dbt.datediff('min(order_date)', 'max(order_date)', 'day') }} + 1 from orders) as period_days,
        (
            select cast({{ metric_average_order_value('sum(net_revenue)', 'count(*)') }} as {{ type_double() }})
            from orders
        ) as average_order_value,
        -- to the cent, like the money columns: a float summed in another order differs in its last bits
        (select cast(round(stddev_samp(net_revenue), 2) as {{ type_double() }}) from orders) as order_value_stddev,
        (
            select count(*) from orders
            where subtotal_price >= {{ var('free_shipping_threshold') }} - {{ var('free_shipping_band') }}
                and subtotal_price < {{ var('free_shipping_threshold') }}
        ) as orders_just_under_threshold,
        (
            select
                cast(
                    {{ money_divide('sum(' ~ var('free_shipping_threshold') ~ ' - subtotal_price)', 'count(*)') }}
                    as {{ type_double() }}
                )
            from orders
            where subtotal_price >= {{ var('free_shipping_threshold') }} - {{ var('free_shipping_band') }}
                and subtotal_price < {{ var('free_shipping_threshold') }}
        ) as average_gap_to_threshold,
        (
            select count(*) from orders
            where subtotal_price >= {{ var('free_shipping_threshold') }}
                and subtotal_price < {{ var('free_shipping_threshold') }} + {{ var('free_shipping_band') }}
        ) as orders_just_over_threshold,
        (
            select count(*) from orders
            where subtotal_price >= {{ var('free_shipping_threshold') }}
        ) as orders_over_threshold,
        (select count(*) from first_two) as repeat_customers,
        (
            select count(*) from first_two
            where second_order_value > first_order_value
        ) as larger_second_orders,
        (
            select count(*) from first_two
            where second_order_value < first_order_value
        ) as smaller_second_orders,
        (
            select
                cast(
                    {{ money_divide('sum(second_order_value - first_order_value)', 'count(*)') }}
                    as {{ type_double() }}
                )
            from first_two
        ) as average_second_order_change,
        (
            select count(*) from orders
            where is_first_order
        ) as first_orders
)

select * from final
