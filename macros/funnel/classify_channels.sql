{#- Assigns GA4's default channel group to each distinct (source, medium, campaign) of `traffic`, from
    the rules in the seed ga4_channel_group_rules (first matching priority wins, else Unassigned) and the
    source lists in ga4_source_categories. A store adjusts its grouping by editing those seeds.
    Matching is case-insensitive; a leading 'www.' of the source is ignored.
    Returns a query with columns source, medium, campaign, channel_group. -#}
{% macro classify_channels(traffic) -%}
    with traffic_sources as (
        select distinct
            source,
            medium,
            campaign
        from {{ traffic }}
    ),

    normalised as (
        select
            traffic_sources.source,
            traffic_sources.medium,
            traffic_sources.campaign,
            regexp_replace(lower(trim(traffic_sources.source)), '^www[.]', '') as source_value,
            lower(trim(traffic_sources.medium)) as medium_value,
            lower(trim(traffic_sources.campaign)) as campaign_value
        from traffic_sources
    ),

    categorised as (
        select
            normalised.*,
            categories.source_category
        from normalised
        left join {{ ref('ga4_source_categories') }} as categories
            on normalised.source_value = lower(categories.source)
    ),

    rule_checks as (
        select
            categorised.source,
            categorised.medium,
            categorised.campaign,
            rules.priority,
            rules.channel_group,
            rules.match_mode,
            case when rules.source_category is not null
                then coalesce(categorised.source_category = rules.source_category, false) end as source_category_ok,
            case when rules.source_pattern is not null
                then coalesce({{ regex_matches('categorised.source_value', 'rules.source_pattern') }}, false)
            end as source_ok,
            case when rules.medium_pattern is not null
                then coalesce({{ regex_matches('categorised.medium_value', 'rules.medium_pattern') }}, false)
            end as medium_ok,
            case when rules.campaign_pattern is not null
                then coalesce({{ regex_matches('categorised.campaign_value', 'rules.campaign_pattern') }}, false)
            end as campaign_ok
        from categorised
        cross join {{ ref('ga4_channel_group_rules') }} as rules
    ),

    matches as (
        select
            source,
            medium,
            campaign,
            priority,
            channel_group
        from rule_checks
        where case
            when match_mode = 'all' then
                coalesce(source_category_ok, true) and coalesce(source_ok, true)
                and coalesce(medium_ok, true) and coalesce(campaign_ok, true)
            else
                coalesce(source_category_ok, false) or coalesce(source_ok, false)
                or coalesce(medium_ok, false) or coalesce(campaign_ok, false)
        end
    ),

    first_match as (
        select
            source,
            medium,
            campaign,
            min(priority) as priority
        from matches
        group by source, medium, campaign
    ),

    grouped as (
        select
            normalised.source,
            normalised.medium,
            normalised.campaign,
            coalesce(min(matches.channel_group), 'Unassigned') as channel_group
        from normalised
        left join first_match
            on {{ null_safe_equals('normalised.source', 'first_match.source') }}
            and {{ null_safe_equals('normalised.medium', 'first_match.medium') }}
            and {{ null_safe_equals('normalised.campaign', 'first_match.campaign') }}
        left join matches
            on {{ null_safe_equals('first_match.source', 'matches.source') }}
            and {{ null_safe_equals('first_match.medium', 'matches.medium') }}
            and {{ null_safe_equals('first_match.campaign', 'matches.campaign') }}
            and first_match.priority = matches.priority
        group by normalised.source, normalised.medium, normalised.campaign
    )

    select * from grouped
{%- endmacro %}
