with parameters as (
    select * from {{ ref('calc_clv_parameters') }}
),

final as (
    select
        {{ dbt.concat(['fit_name', "'|'", 'model']) }} as clv_model_key,
        fit_name,
        model,
        status,
        message,
        calibration_end_date,
        observation_end_date,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(repeat_customers as {{ dbt.type_bigint() }}) as repeat_customers,
        cast(log_likelihood as {{ type_double() }}) as log_likelihood,
        cast(r as {{ type_double() }}) as r,
        cast(alpha as {{ type_double() }}) as alpha,
        cast(a as {{ type_double() }}) as a,
        cast(b as {{ type_double() }}) as b,
        cast(p as {{ type_double() }}) as p,
        cast(q as {{ type_double() }}) as q,
        cast(gamma as {{ type_double() }}) as gamma
    from parameters
)

select * from final
