{#- Rejected rows point at their CSV line: in each base model the lines run 2 .. rows + 1 with no gap. -#}
{%- set bases = [
    'base_ga4__events', 'base_ga4__funnel_report', 'base_shopify__orders', 'base_shopify__order_lines', 'base_shopify__refunds',
    'base_shopify__customers', 'base_shopify__products', 'base_shopify__variants',
] -%}

with line_ranges as (
    {%- for base in bases %}
    {%- set from_line = appended_from_line('raw_ga4_events') if base == 'base_ga4__events' else none %}
    select
        '{{ base }}' as model_name,
        count(*) as row_count,
        {%- if from_line %}
        -- Built by appending: the lines before {{ from_line }} were tested by the build that wrote them
        -- and cannot have changed (2 .. {{ from_line - 1 }}); only the new lines are counted.
        {{ from_line - 2 }} + (
            select count(distinct source_line) from {{ ref(base) }} where source_line >= {{ from_line }}
        ) as distinct_lines,
        {%- else %}
        count(distinct source_line) as distinct_lines,
        {%- endif %}
        min(source_line) as first_line,
        max(source_line) as last_line
    from {{ ref(base) }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from line_ranges
where row_count > 0
    and (distinct_lines <> row_count or first_line <> 2 or last_line <> row_count + 1)
