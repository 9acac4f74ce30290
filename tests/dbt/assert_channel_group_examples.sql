{#- Every example of ga4_channel_group_examples gets its expected channel group from the rules, and
    every channel group the rules can assign has at least one example. Returns the mismatches. -#}
with classified as (
    {{ classify_channels(ref('ga4_channel_group_examples')) }}
),

mismatches as (
    select
        examples.source,
        examples.medium,
        examples.campaign,
        examples.expected_channel_group,
        classified.channel_group as actual_channel_group
    from {{ ref('ga4_channel_group_examples') }} as examples
    left join classified
        on {{ null_safe_equals('examples.source', 'classified.source') }}
        and {{ null_safe_equals('examples.medium', 'classified.medium') }}
        and {{ null_safe_equals('examples.campaign', 'classified.campaign') }}
    where classified.channel_group is distinct from examples.expected_channel_group
),

untested_groups as (
    select
        null as source,
        null as medium,
        null as campaign,
        rules.channel_group as expected_channel_group,
        'no example' as actual_channel_group
    from {{ ref('ga4_channel_group_rules') }} as rules
    where
        rules.channel_group not in (
            select expected_channel_group from {{ ref('ga4_channel_group_examples') }}
        )
)

select * from mismatches
union all
select * from untested_groups
