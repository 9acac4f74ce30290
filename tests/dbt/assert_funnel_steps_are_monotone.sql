{#- In the closed funnel each step has at most the sessions of the previous one (the previous one the store
    sends, when a step is not sent: its counts are null), and no closed count exceeds its open count.
    Returns the rows of fct_funnel_daily that break either rule. -#}
select *
from {{ ref('fct_funnel_daily') }}
where add_to_cart_sessions > sessions
    or begin_checkout_sessions > coalesce(add_to_cart_sessions, sessions)
    or purchase_sessions > coalesce(begin_checkout_sessions, add_to_cart_sessions, sessions)
    or add_to_cart_sessions > add_to_cart_sessions_open
    or begin_checkout_sessions > begin_checkout_sessions_open
    or purchase_sessions > purchase_sessions_open
    or sessions <> sessions_open
