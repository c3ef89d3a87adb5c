{{ config(enabled=capability('has_products')) }}
-- The input of the repurchase-timing models (python_models/timing, docs/timing.md): one row per
-- customer × item × distinct purchase day, at two item levels: the product (any affiliate; with
-- its major category, empty when the dataset has none) and, when the dataset has categories, the
-- major category (a day with any product of it).
select distinct
    'product' as item_level,
    customer_id,
    product_code as item_id,
    coalesce(category_major, '') as category,
    purchase_date
from {{ ref('int_customer_product_days') }}
{% if capability('has_categories') %}
    union all
    select distinct
        'category' as item_level,
        customer_id,
        category_major as item_id,
        '' as category,
        purchase_date
    from {{ ref('int_customer_product_days') }}
    where category_major is not null
{% endif %}
