{#- How well the calibration fit predicted the holdout: in total, and by the number of repeat purchases
    in calibration (the check of Fader, Hardie & Lee 2005, figure 5), with the mean absolute error per
    customer. -#}
with holdout as (
    select * from {{ ref('fct_clv_holdout') }}
),

grouped as (
    select
        'all customers' as customer_group,
        -1 as group_order,
        *
    from holdout
    union all
    select
        case when calibration_frequency >= 7 then '7+ repeat purchases'
            else cast(calibration_frequency as {{ dbt.type_string() }}) || ' repeat purchases'
        end as customer_group,
        least(calibration_frequency, 7) as group_order,
        *
    from holdout
),

final as (
    select
        customer_group,
        cast(min(group_order) as {{ dbt.type_int() }}) as group_order,
        min(clv_status) as clv_status,
        cast(min(holdout_days) as {{ dbt.type_int() }}) as holdout_days,
        count(*) as customers,
        cast(sum(predicted_holdout_purchases) as {{ type_double() }}) as predicted_purchases,
        cast(sum(actual_holdout_purchases) as {{ dbt.type_bigint() }}) as actual_purchases,
        {{ safe_divide('sum(predicted_holdout_purchases) - sum(actual_holdout_purchases)',
                       'sum(actual_holdout_purchases)') }} as relative_error,
        cast(avg(abs(predicted_holdout_purchases - actual_holdout_purchases)) as {{ type_double() }})
            as mean_absolute_error_per_customer
    from grouped
    group by customer_group
)

select * from final
