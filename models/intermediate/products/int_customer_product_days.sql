-- Affiliate × customer × product × purchase day: receipts and lines. The shared input of
-- both preference-score models (as of calibration_end and as of observation_end), so the
-- 4.5M purchase lines are aggregated once. A receipt repeating a product counts once.
with pair_receipts as (
    select
        affiliate_code,
        customer_id,
        product_code,
        receipt_id,
        min(purchase_date) as purchase_date,
        any_value(category_major) as category_major,
        count(*) as n_lines
    from {{ ref('int_purchase_lines') }}
    group by affiliate_code, customer_id, product_code, receipt_id
)

select
    affiliate_code,
    customer_id,
    product_code,
    purchase_date,
    any_value(category_major) as category_major,
    count(*) as n_receipts,
    cast(sum(n_lines) as bigint) as n_lines
from pair_receipts
group by affiliate_code, customer_id, product_code, purchase_date
