{#- One row: the funnel steps the store sends at all. A step no event of the data has (many stores never
    send begin_checkout) is skipped by the closed funnel rather than closing it (fct_sessions). Read from
    every raw event, the rejected ones too, so that rows failing a check cannot redefine the funnel. -#}
{{ config(materialized='table') }}

with events as (
    select event_name from {{ ref('base_ga4__events') }}
),

tracked_events as (
    select
        coalesce({{ count_where("event_name = 'add_to_cart'") }}, 0) > 0 as add_to_cart,
        coalesce({{ count_where("event_name = 'begin_checkout'") }}, 0) > 0 as begin_checkout,
        coalesce({{ count_where("event_name = 'purchase'") }}, 0) > 0 as purchase
    from events
    where event_name in ('add_to_cart', 'begin_checkout', 'purchase')
),

final as (
    select
        add_to_cart,
        begin_checkout,
        purchase,
        {{ dbt.concat([
            "'session'",
            "case when add_to_cart then '>add_to_cart' else '' end",
            "case when begin_checkout then '>begin_checkout' else '' end",
            "case when purchase then '>purchase' else '' end",
        ]) }} as closed_funnel_steps
    from tracked_events
)

select * from final
