{#- One row per product: its current title (the catalog's, where order lines may carry older ones), the
    label a person reads (the title, with the product id beside it when another product has the same title),
    and whether it is merchandise: a product whose type is in var non_merchandise_product_types (fees,
    shipping, services) is not, and stays out of product metrics, cross-sell and upsell. -#}
with products as (
    select * from {{ ref('stg_shopify__products') }}
),

labelled as (
    select
        product_id,
        product_title,
        product_type,
        case
            when count(*) over (partition by lower(product_title)) > 1
                then {{ dbt.concat(['product_title', "' (#'", dbt.safe_cast('product_id', dbt.type_string()), "')'"]) }}
            else product_title
        end as product_label,
        coalesce(lower(product_type) not in ({{ text_list(var('non_merchandise_product_types')) }}), true)
            as is_merchandise
    from products
)

select * from labelled
