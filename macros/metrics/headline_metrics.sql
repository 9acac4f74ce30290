{#- The headline metrics, defined once. Every mart that shows one of them computes it with the macro
    below, marts.fct_headline_metrics states each for the last 28 days, the 28 days before and all time
    with the wording of metric_catalog(), and the report and the CSV exports read those marts: a number
    means the same everywhere. The catalog is the one place where a metric's name, unit and meaning are
    written; tests/dbt/assert_headline_metrics_match_marts.sql recomputes each from the marts it summarises. -#}

{#- The catalog for one GA4 grain (default: the var ga4_grain, the grain this build reads). A metric that
    GA4 feeds means something else at each grain, so its 'definition' is written once per grain and the
    catalog hands out only the grain's own: a build from events must not describe GA4's report sessions,
    nor one from reports the sessionized events. The Shopify metrics read the same whatever the grain. -#}
{% macro metric_catalog(ga4_grain=none) %}
    {%- set grain = ga4_grain or var('ga4_grain') -%}
    {%- if grain not in ['events', 'report'] -%}
        {{ exceptions.raise_compiler_error("ga4_grain is '" ~ grain ~ "': it must be events or report") }}
    {%- endif -%}
    {%- set metrics = [
        {
            'name': 'sessions',
            'label': 'Sessions',
            'unit': 'count',
            'definition': {
                'events': 'GA4 sessions (one user_pseudo_id and ga_session_id), counted on the date of their '
                    ~ 'first event in the reporting time zone.',
                'report': "GA4's own sessions, as the GA4 Data API reports them, counted on the report date in "
                    ~ "the GA4 property's time zone.",
            },
        },
        {
            'name': 'conversion_rate',
            'label': 'Conversion rate',
            'unit': 'ratio',
            'definition': {
                'events': 'Share of sessions that reached purchase in the closed funnel (a purchase event at '
                    ~ 'or after the session reached begin_checkout): purchase sessions / sessions.',
                'report': 'Sessions with a purchase, capped at those with a begin_checkout and at those with an '
                    ~ 'add_to_cart, / sessions: an upper bound of the closed-funnel conversion, as GA4 reports '
                    ~ 'cannot say in which order a session sent its events.',
            },
        },
        {
            'name': 'orders',
            'label': 'Orders',
            'unit': 'count',
            'definition': 'Valid Shopify orders (not a test order, not cancelled), on the order date in the '
                ~ 'reporting time zone, from every sales channel and including guest orders.',
        },
        {
            'name': 'net_revenue',
            'label': 'Net revenue',
            'unit': 'money',
            'definition': 'Total price of the valid orders minus everything refunded on them, in the shop '
                ~ 'currency, counted on the order date (a later refund lowers the day of its order).',
        },
        {
            'name': 'average_order_value',
            'label': 'Average order value',
            'unit': 'money',
            'definition': 'Net revenue / orders over the same valid orders.',
        },
        {
            'name': 'month_1_retention_rate',
            'label': 'Month-1 retention',
            'unit': 'ratio',
            'definition': 'Of the customers whose month after their first-order month is complete, the share who '
                ~ 'placed a valid order in that month (summed over cohorts: active customers / cohort '
                ~ 'customers, months_since_first_order = 1).',
        },
        {
            'name': 'predicted_clv_12m',
            'label': 'Predicted 12-month CLV',
            'unit': 'money',
            'definition': 'Mean over customers with a prediction of the BG/NBD x Gamma-Gamma net revenue '
                ~ 'expected in the next 12 months, discounted monthly (fct_customer_clv.predicted_clv_12m).',
        },
    ] -%}
    {%- set catalog = [] -%}
    {%- for metric in metrics -%}
        {%- set definition = metric.definition[grain] if metric.definition is mapping else metric.definition -%}
        {%- do catalog.append({'name': metric.name, 'label': metric.label, 'unit': metric.unit,
                               'definition': definition}) -%}
    {%- endfor -%}
    {{ return(catalog) }}
{% endmacro %}

{% macro metric_is_valid_order(is_test, cancelled_at) -%}
    not {{ is_test }} and {{ cancelled_at }} is null
{%- endmacro %}

{#- An order's net revenue: its total price less its refunds, 0 for an order that is not valid. -#}
{% macro metric_order_net_revenue(is_valid, total_price, refunded_amount) -%}
    cast(case when {{ is_valid }} then {{ total_price }} - {{ refunded_amount }} else 0 end as {{ type_money() }})
{%- endmacro %}

{#- Closed-funnel conversion: purchase sessions over sessions, null without sessions. -#}
{% macro metric_conversion_rate(purchase_sessions, sessions) -%}
    {{ safe_divide(purchase_sessions, sessions) }}
{%- endmacro %}

{#- Net revenue per valid order, in money; null without orders. -#}
{% macro metric_average_order_value(net_revenue, orders) -%}
    {{ money_divide(net_revenue, orders) }}
{%- endmacro %}

{#- Active customers of a cohort month over the customers of the cohort. -#}
{% macro metric_retention_rate(active_customers, cohort_customers) -%}
    {{ safe_divide(active_customers, cohort_customers) }}
{%- endmacro %}

{#- Mean predicted CLV per customer over the customers that have a prediction (an aggregate). -#}
{% macro metric_clv_per_customer(predicted_clv) -%}
    cast({{ safe_divide('sum(' ~ predicted_clv ~ ')', 'count(' ~ predicted_clv ~ ')') }} as {{ type_money() }})
{%- endmacro %}
