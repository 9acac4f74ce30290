{#- metric_catalog() as rows, one select per metric joined by union all: metric_order (its place in the
    catalog), metric, metric_label, unit and definition. The mart and the test of its definitions read the
    catalog through this one rendering. -#}
{% macro metric_catalog_rows(ga4_grain=none) -%}
    {%- for metric in metric_catalog(ga4_grain) %}
    select
        {{ loop.index }} as metric_order,
        {{ sql_text(metric.name) }} as metric,
        {{ sql_text(metric.label) }} as metric_label,
        {{ sql_text(metric.unit) }} as unit,
        {{ sql_text(metric.definition) }} as definition
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
