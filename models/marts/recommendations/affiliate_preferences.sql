-- Seed 000's affiliate choice weights: each customer's share of receipts (and of spend)
-- per retail affiliate (A01..A06; a generic dataset's business units), up to observation_end.
-- Shares sum to 1 per customer. Built only when the data has several business units.
with per_affiliate as (
    select
        receipts.customer_id,
        receipts.affiliate_code,
        count(*) as n_receipts,
        sum(receipts.spend) as spend
    from {{ ref('int_receipts') }} as receipts
    inner join {{ ref('int_business_units') }} as affiliates using (affiliate_code)
    where
        affiliates.affiliate_kind = 'retail'
        and receipts.purchase_date <= {{ observation_end() }}
    group by receipts.customer_id, receipts.affiliate_code
)

select
    customer_id,
    affiliate_code,
    n_receipts,
    cast(spend as double) as spend,
    n_receipts / sum(n_receipts) over (partition by customer_id) as purchase_share,
    cast(spend / sum(spend) over (partition by customer_id) as double) as spend_share
from per_affiliate
