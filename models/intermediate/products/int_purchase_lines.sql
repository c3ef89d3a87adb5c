{{ config(materialized="view") }}

-- Product purchase lines (PDDE part of int_transactions) with the product's categories:
-- the input of preference scores, sessions and recommenders.
select
    t.transaction_line_id,
    t.customer_id,
    t.receipt_id,
    t.affiliate_code,
    t.channel,
    t.product_code,
    p.category_major,
    p.category_middle,
    t.purchased_at,
    t.purchase_date,
    t.spend,
    t.quantity,
    t.paid_with_lpay
from {{ ref('int_transactions') }} as t
inner join {{ ref('stg_lpoint__products') }} as p using (product_code)
where t.source_system = 'lpoint_pdde'
