{{ config(materialized='view', enabled=capability('has_products')) }}
-- A view: at 30,000 customers it is 18M rows, which took longer to write than the two models
-- reading it take to recompute it (each reads it once).

-- The baskets of the association rules (seed 004), one row per basket × product: a product
-- repeated in a basket counts once. basket_kind 'receipt' = one receipt; 'customer_day' = a
-- customer's purchases on one day (seed 004 grouped product ids by customer and purchase date).
-- scope 'overall' = every affiliate; with several business units each affiliate is also a
-- scope of its own, whose baskets hold only the lines bought there. A basket is named by
-- (customer_id, basket_ref): the receipt id or the ISO day. Purchase lines up to
-- observation_end; returns and non-product lines never reach int_purchase_lines.
with purchased as (
    select distinct
        customer_id,
        receipt_id,
        purchase_date,
        affiliate_code,
        product_code
    from {{ ref('int_purchase_lines') }}
    where purchase_date <= {{ observation_end() }}
),

scoped as (
    select
        'overall' as scope,
        customer_id,
        receipt_id,
        purchase_date,
        product_code
    from purchased
    {% if capability('has_business_units') %}
        union all
        select
            affiliate_code as scope,
            customer_id,
            receipt_id,
            purchase_date,
            product_code
        from purchased
    {% endif %}
)

select distinct
    'receipt' as basket_kind,
    scope,
    customer_id,
    receipt_id as basket_ref,
    product_code
from scoped
union all
select distinct
    'customer_day' as basket_kind,
    scope,
    customer_id,
    cast(purchase_date as varchar) as basket_ref,
    product_code
from scoped
