{#- For every raw table: raw rows = staged rows + rejected rows. Returns the tables where it fails. -#}
{%- set tables = [
    ('ga4', 'raw_ga4_events', 'stg_ga4__events'),
    ('ga4', 'ga4_funnel_report', 'stg_ga4__funnel_report'),
    ('shopify', 'raw_shopify_orders', 'stg_shopify__orders'),
    ('shopify', 'raw_shopify_order_lines', 'stg_shopify__order_lines'),
    ('shopify', 'raw_shopify_refunds', 'stg_shopify__refunds'),
    ('shopify', 'raw_shopify_customers', 'stg_shopify__customers'),
    ('shopify', 'raw_shopify_products', 'stg_shopify__products'),
    ('shopify', 'raw_shopify_variants', 'stg_shopify__variants'),
] -%}

with counts as (
    {%- for source_name, raw, staged in tables %}
    select
        '{{ raw }}' as source_table,
        (select count(*) from {{ raw_table(source_name, raw) }}) as raw_rows,
        (select count(*) from {{ ref(staged) }}) as staged_rows,
        (
            select count(*) from {{ ref('stg_rejected_rows') }}
            where source_table = '{{ raw }}'
        ) as rejected_rows
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select * from counts
where raw_rows <> staged_rows + rejected_rows
