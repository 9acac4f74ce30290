{#- The value of `value` on the row with the smallest `order_by`, ties broken by `tie_breaker`, so the
    choice is the same on every run. `where` limits the rows considered. -#}
{% macro first_by(value, order_by, tie_breaker, where=none) %}
    {{ return(adapter.dispatch('first_by', 'sales_insights')(value, order_by, tie_breaker, where)) }}
{% endmacro %}

{% macro default__first_by(value, order_by, tie_breaker, where) -%}
    min_by({% if where %}case when {{ where }} then {{ value }} end{% else %}{{ value }}{% endif %},
        {% if where %}case when {{ where }} then struct({{ order_by }}, {{ tie_breaker }}) end
        {%- else %}struct({{ order_by }}, {{ tie_breaker }}){% endif %})
{%- endmacro %}

{% macro duckdb__first_by(value, order_by, tie_breaker, where) -%}
    arg_min({{ value }}, ({{ order_by }}, {{ tie_breaker }})){% if where %} filter (where {{ where }}){% endif %}
{%- endmacro %}
