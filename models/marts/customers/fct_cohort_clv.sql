with customer_clv as (
    select * from {{ ref('fct_customer_clv') }}
),

final as (
    select
        cohort_month,
        min(clv_status) as clv_status,
        count(*) as customers,
        cast(sum(net_revenue) as {{ type_money() }}) as net_revenue_to_date,
        cast(sum(expected_purchases_365d) as {{ type_double() }}) as expected_purchases_365d,
        cast(sum(predicted_clv_12m) as {{ type_money() }}) as predicted_clv_12m,
        {{ metric_clv_per_customer('predicted_clv_12m') }} as predicted_clv_12m_per_customer
    from customer_clv
    group by cohort_month
)

select * from final
