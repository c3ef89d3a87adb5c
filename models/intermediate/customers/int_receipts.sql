-- One row per receipt (a shopping trip or a service use): the grain for counting
-- purchases and spend per customer. Aggregating lines once here keeps the customer
-- models free of count(distinct …) over millions of lines.
select
    customer_id,
    receipt_id,
    any_value(affiliate_code) as affiliate_code,
    any_value(channel) as channel,
    min(purchased_at) as purchased_at,
    min(purchase_date) as purchase_date,
    sum(spend) as spend,
    count(*) as n_lines,
    bool_or(paid_with_lpay) as paid_with_lpay
from {{ ref('int_transactions') }}
group by customer_id, receipt_id
