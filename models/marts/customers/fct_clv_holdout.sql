with holdout as (
    select * from {{ ref('calc_clv_holdout_predictions') }}
),

final as (
    select
        customer_id,
        clv_status,
        cast(calibration_frequency as {{ dbt.type_bigint() }}) as calibration_frequency,
        cast(calibration_recency_days as {{ dbt.type_bigint() }}) as calibration_recency_days,
        cast(calibration_tenure_days as {{ dbt.type_bigint() }}) as calibration_tenure_days,
        cast(holdout_days as {{ dbt.type_int() }}) as holdout_days,
        cast(predicted_holdout_purchases as {{ type_double() }}) as predicted_holdout_purchases,
        cast(actual_holdout_purchases as {{ dbt.type_bigint() }}) as actual_holdout_purchases
    from holdout
)

select * from final
