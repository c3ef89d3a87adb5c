-- The canonical product catalogue every product model reads: product_code, product_name and up
-- to three category levels (category_1 = the top one; L.Point: major / middle category, no
-- third). Products the dataset marks as not goods (the generic config's non_product_ids:
-- postage, fees, ...) are left out, so their lines are spend but never product lines.
{% if var('source', 'lpoint') == 'lpoint' %}
    select
        product_code,
        product_name,
        category_major as category_1,
        category_middle as category_2,
        cast(null as varchar) as category_3
    from {{ ref('stg_lpoint__products') }}
{% else %}
    select
        product_code,
        product_name,
        category_1,
        category_2,
        category_3
    from {{ ref('stg_retail__products') }}
    where not is_non_product
{% endif %}
