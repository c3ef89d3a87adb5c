-- Affiliate × customer × product × purchase day: receipts and lines. The shared input of
-- both preference-score models (as of calibration_end and as of observation_end), so the
-- 4.5M purchase lines are aggregated once. A receipt repeating a product counts once.
-- The product's category is joined to the day rows, not carried through both aggregations.
with pair_receipts as (
    select
        affiliate_code,
        customer_id,
        product_code,
        receipt_id,
        min(purchase_date) as purchase_date,
        count(*) as n_lines
    from {{ ref('int_purchase_lines') }}
    group by affiliate_code, customer_id, product_code, receipt_id
),

pair_days as (
    select
        affiliate_code,
        customer_id,
        product_code,
        purchase_date,
        count(*) as n_receipts,
        cast(sum(n_lines) as bigint) as n_lines
    from pair_receipts
    group by affiliate_code, customer_id, product_code, purchase_date
)

select
    pair_days.affiliate_code,
    pair_days.customer_id,
    pair_days.product_code,
    pair_days.purchase_date,
    products.category_1 as category_major,
    pair_days.n_receipts,
    pair_days.n_lines
from pair_days
inner join {{ ref('int_products') }} as products using (product_code)
