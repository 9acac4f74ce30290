with candidates as (
    select * from {{ ref('calc_experiment_candidates') }}
),

effort as (
    select * from {{ ref('experiment_effort') }}
),

scored as (
    select
        'exp_' || substr(
            {{ dbt.hash(dbt.concat(['candidates.experiment_type', "'|'", 'candidates.target_key'])) }}, 1, 12
        ) as experiment_id,
        candidates.*,
        effort.effort_days,
        effort.what_it_takes,
        least(1.0, {{ var('experiment_max_test_days') }} / nullif(candidates.days_to_significance, 0))
            as time_factor,
        -- a significant test, or descriptive evidence without one; a test that found nothing is no evidence
        coalesce(candidates.is_significant, false) or candidates.adjusted_p_value is null as has_evidence
    from candidates
    left join effort
        on candidates.experiment_type = effort.experiment_type
),

prioritised as (
    select
        *,
        coalesce(expected_monthly_margin_impact * confidence * time_factor / nullif(effort_days, 0), 0)
            as priority_score
    from scored
),

final as (
    select
        experiment_id,
        cast(
            row_number() over (order by has_evidence desc, priority_score desc, experiment_id asc)
            as {{ dbt.type_int() }}
        ) as rank,
        cast(experiment_type as {{ dbt.type_string() }}) as experiment_type,
        cast(target as {{ dbt.type_string() }}) as target,
        cast(target_key as {{ dbt.type_string() }}) as target_key,
        cast(hypothesis as {{ dbt.type_string() }}) as hypothesis,
        cast(evidence_metric as {{ dbt.type_string() }}) as evidence_metric,
        cast(baseline_rate as {{ type_double() }}) as baseline_rate,
        cast(comparison_rate as {{ type_double() }}) as comparison_rate,
        cast(effect as {{ type_double() }}) as effect,
        cast(effect_ci_lower as {{ type_double() }}) as effect_ci_lower,
        cast(effect_ci_upper as {{ type_double() }}) as effect_ci_upper,
        cast(p_value as {{ type_double() }}) as p_value,
        cast(adjusted_p_value as {{ type_double() }}) as adjusted_p_value,
        cast(is_significant as {{ dbt.type_boolean() }}) as is_significant,
        cast(tests_in_family as {{ dbt.type_bigint() }}) as tests_in_family,
        cast(has_evidence as {{ dbt.type_boolean() }}) as has_evidence,
        cast(observations as {{ dbt.type_bigint() }}) as observations,
        cast(daily_traffic as {{ type_double() }}) as daily_traffic,
        cast(test_design as {{ dbt.type_string() }}) as test_design,
        cast(test_baseline as {{ type_double() }}) as test_baseline,
        cast(claimed_change as {{ type_double() }}) as claimed_change,
        cast(sized_change as {{ type_double() }}) as sized_change,
        cast(required_sample_per_arm as {{ dbt.type_bigint() }}) as required_sample_per_arm,
        cast(days_to_significance as {{ dbt.type_bigint() }}) as days_to_significance,
        cast(detectable_change as {{ type_double() }}) as detectable_change,
        cast(expected_monthly_revenue_impact as {{ type_money() }}) as expected_monthly_revenue_impact,
        cast(expected_monthly_margin_impact as {{ type_money() }}) as expected_monthly_margin_impact,
        cast(confidence as {{ type_double() }}) as confidence,
        cast(effort_days as {{ type_double() }}) as effort_days,
        what_it_takes,
        cast(time_factor as {{ type_double() }}) as time_factor,
        cast(priority_score as {{ type_double() }}) as priority_score
    from prioritised
)

select * from final
