{{ config(materialized="view") }}

-- Product purchase lines (the lines of int_transactions with a product of int_products: L.Point's
-- PDDE lines, every generic line but the non-product ones) with the product's categories (the
-- top two levels as category_major / category_middle): the input of preference scores,
-- sessions and recommenders.
select
    t.transaction_line_id,
    t.customer_id,
    t.receipt_id,
    t.affiliate_code,
    t.channel,
    t.product_code,
    p.category_1 as category_major,
    p.category_2 as category_middle,
    t.purchased_at,
    t.purchase_date,
    t.spend,
    t.quantity,
    t.paid_with_lpay
from {{ ref('int_transactions') }} as t
inner join {{ ref('int_products') }} as p using (product_code)
-- lets DuckDB drop the union branches without products (L.Point's COP_U rows) before the join
where t.product_code is not null
