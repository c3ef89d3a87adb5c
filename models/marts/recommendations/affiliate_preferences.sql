-- Seed 000's affiliate choice weights: each customer's share of product-purchase receipts
-- (and of spend) per retail affiliate, up to observation_end. Shares sum to 1 per customer.
with per_affiliate as (
    select
        customer_id,
        affiliate_code,
        count(distinct receipt_id) as n_receipts,
        sum(amount) as spend
    from {{ ref('int_purchase_lines') }}
    where purchase_date <= {{ observation_end() }}
    group by customer_id, affiliate_code
)

select
    customer_id,
    affiliate_code,
    n_receipts,
    spend,
    n_receipts / sum(n_receipts) over (partition by customer_id) as purchase_share,
    spend / sum(spend) over (partition by customer_id) as spend_share
from per_affiliate
