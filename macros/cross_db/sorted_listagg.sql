{#- The non-null values of `value` in a group, sorted, joined by `delimiter` (a SQL string literal).
    dbt.listagg drops its order by on Spark, where collect_list keeps the order rows happen to arrive in;
    sorting the collected array gives the same text on every run and every engine. -#}
{% macro sorted_listagg(value, delimiter) %}
    {{ return(adapter.dispatch('sorted_listagg', 'sales_insights')(value, delimiter)) }}
{% endmacro %}

{% macro default__sorted_listagg(value, delimiter) -%}
    {{ dbt.listagg(value, delimiter, 'order by ' ~ value) }}
{%- endmacro %}

{#- collect_list of only nulls is an empty array, which array_join makes '': null, as on DuckDB. -#}
{% macro spark__sorted_listagg(value, delimiter) -%}
    case when count({{ value }}) > 0 then array_join(array_sort(collect_list({{ value }})), {{ delimiter }}) end
{%- endmacro %}
