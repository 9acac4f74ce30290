{#- Rejected rows point at their CSV line: in each base model the lines run 2 .. rows + 1 with no gap. -#}
{%- set bases = [
    'base_ga4__events', 'base_shopify__orders', 'base_shopify__order_lines', 'base_shopify__refunds',
    'base_shopify__customers', 'base_shopify__products', 'base_shopify__variants',
] -%}

with line_ranges as (
    {%- for base in bases %}
    select
        '{{ base }}' as model_name,
        count(*) as row_count,
        count(distinct source_line) as distinct_lines,
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
