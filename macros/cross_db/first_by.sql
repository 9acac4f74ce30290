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

{#- The line (a unique bigint below 2^32, such as source_line) of the row with the smallest `order_by`
    (a bigint), ties broken by the smaller line: first_by(line, order_by, line), which DuckDB computes
    faster as the minimum of one 128-bit number holding both, order_by above the line (fct_sessions
    at 10M events: 20.3 s against 13.2 s, the same rows). -#}
{% macro first_line(order_by, line, where=none) %}
    {{ return(adapter.dispatch('first_line', 'sales_insights')(order_by, line, where)) }}
{% endmacro %}

{% macro default__first_line(order_by, line, where) -%}
    {{ first_by(line, order_by, line, where) }}
{%- endmacro %}

{% macro duckdb__first_line(order_by, line, where) -%}
    cast(min(cast({{ order_by }} as hugeint) * 4294967296 + {{ line }})
        {%- if where %} filter (where {{ where }}){% endif %} & 4294967295 as bigint)
{%- endmacro %}
