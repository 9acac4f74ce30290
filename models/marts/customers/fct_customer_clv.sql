with customers as (
    select * from {{ ref('dim_customers') }}
    where cohort_month is not null
),

predictions as (
    select * from {{ ref('calc_customer_clv_predictions') }}
),

final as (
    select
        customers.customer_id,
        customers.cohort_month,
        customers.acquisition_channel_group,
        predictions.clv_status,
        customers.orders,
        customers.net_revenue,
        cast(predictions.frequency as {{ dbt.type_bigint() }}) as frequency,
        cast(predictions.recency_days as {{ dbt.type_bigint() }}) as recency_days,
        cast(predictions.tenure_days as {{ dbt.type_bigint() }}) as tenure_days,
        cast(predictions.p_alive as {{ type_double() }}) as p_alive,
        cast(predictions.expected_purchases_90d as {{ type_double() }}) as expected_purchases_90d,
        cast(predictions.expected_purchases_365d as {{ type_double() }}) as expected_purchases_365d,
        cast(predictions.expected_average_order_value as {{ type_money() }}) as expected_average_order_value,
        cast(predictions.predicted_clv_12m as {{ type_money() }}) as predicted_clv_12m
    from customers
    inner join predictions
        on customers.customer_id = predictions.customer_id
)

select * from final
