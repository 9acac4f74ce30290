{#- Reading GA4's BigQuery export, whose event_params are an array of {key, value: {string_value,
    int_value, float_value, double_value}} (base_ga4__export_events).

    ga4_param_texts(params): the array as {k, v} pairs, v the text of whichever value field is set (the
    export sets the one of the parameter's type; the loader reads every one of them as text, so an integer
    keeps all its digits).
    ga4_param(texts, key): the text of parameter `key` of such an array (the first, if the key repeats),
    null when the event does not have it.
    array_first(array): the first element, null for an empty or null array.
    array_rows(relation, array, alias): for a from clause, `relation` with a row per element of its `array`
    (none for an empty or null one), the element as alias.element; array_row_index(alias) is its place
    in the array, 1 for the first. -#}
{% macro ga4_param_texts(params) %}
    {{ return(adapter.dispatch('ga4_param_texts', 'sales_insights')(params)) }}
{% endmacro %}

{% macro default__ga4_param_texts(params) -%}
    transform({{ params }}, p -> named_struct(
        'k', p.key,
        'v', coalesce(p.value.string_value, p.value.int_value, p.value.double_value, p.value.float_value)
    ))
{%- endmacro %}

{% macro duckdb__ga4_param_texts(params) -%}
    list_transform({{ params }}, lambda p: {
        'k': p.key,
        'v': coalesce(p.value.string_value, p.value.int_value, p.value.double_value, p.value.float_value)
    })
{%- endmacro %}

{% macro ga4_param(texts, key) %}
    {{ return(adapter.dispatch('ga4_param', 'sales_insights')(texts, key)) }}
{% endmacro %}

{% macro default__ga4_param(texts, key) -%}
    try_element_at(filter({{ texts }}, p -> p.k = '{{ key }}'), 1).v
{%- endmacro %}

{% macro duckdb__ga4_param(texts, key) -%}
    list_filter({{ texts }}, lambda p: p.k = '{{ key }}')[1].v
{%- endmacro %}

{% macro array_first(array) %}
    {{ return(adapter.dispatch('array_first', 'sales_insights')(array)) }}
{% endmacro %}

{% macro default__array_first(array) -%}
    try_element_at({{ array }}, 1)
{%- endmacro %}

{% macro duckdb__array_first(array) -%}
    {{ array }}[1]
{%- endmacro %}

{% macro array_rows(relation, array, alias) %}
    {{ return(adapter.dispatch('array_rows', 'sales_insights')(relation, array, alias)) }}
{% endmacro %}

{% macro default__array_rows(relation, array, alias) -%}
    {{ relation }} lateral view posexplode({{ array }}) {{ alias }} as position, element
{%- endmacro %}

{% macro duckdb__array_rows(relation, array, alias) -%}
    {{ relation }}, unnest({{ array }}) with ordinality as {{ alias }} (element, position)
{%- endmacro %}

{% macro array_row_index(alias) %}
    {{ return(adapter.dispatch('array_row_index', 'sales_insights')(alias)) }}
{% endmacro %}

{% macro default__array_row_index(alias) -%}
    {{ alias }}.position + 1
{%- endmacro %}

{% macro duckdb__array_row_index(alias) -%}
    {{ alias }}.position
{%- endmacro %}
