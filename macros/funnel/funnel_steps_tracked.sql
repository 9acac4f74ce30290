{#- One row: for each funnel step past the session, whether the store sends it at all (add_to_cart,
    begin_checkout, purchase: booleans). From events, a step is sent when the closed funnel measured it
    (fct_sessions leaves reached_<step> null for a step no event of the data has); from GA4 at
    report grain, when any row counts a session with the step's event. The funnel marts leave a step that is
    not sent out (null counts and rates) and take the next step's rate from the step before it. -#}
{% macro funnel_steps_tracked(sessions, report) -%}
    select
        {%- for step in ['add_to_cart', 'begin_checkout', 'purchase'] %}
        (select count(reached_{{ step }}) from {{ sessions }}) > 0
        or (select coalesce(sum({{ step }}_sessions_open), 0) from {{ report }}) > 0 as {{ step }}
        {{- ',' if not loop.last }}
        {%- endfor %}
{%- endmacro %}
