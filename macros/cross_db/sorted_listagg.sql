{#- The non-null values of `value` in a group, sorted, joined by `delimiter` (a SQL string literal).
    dbt.listagg drops its order by on Spark, where collect_list keeps the order rows happen to arrive in;
    sorting the collected array gives the same text on every run and every engine. -#}
{% macro sorted_listagg(value, delimiter) %}
    {{ return(adapter.dispatch('sorted_listagg', 'sales_insights')(value, delimiter)) }}
{% endmacro %}

{% macro default__sorted_listagg(value, delimiter) -%}
    {{ dbt.listagg(value, delimiter, 'order by ' ~ value) }}
{%- endmacro %}

{% macro spark__sorted_listagg(value, delimiter) -%}
    array_join(array_sort(collect_list({{ value }})), {{ delimiter }})
{%- endmacro %}
