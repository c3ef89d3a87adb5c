-- Customer × purchase day: the unit lifetimes counts (freq='D'). All days in the data;
-- consumers cut at observation_end / calibration_end.
select
    customer_id,
    purchase_date,
    sum(amount) as spend,
    count(distinct receipt_id) as n_receipts
from {{ ref('int_transactions') }}
group by customer_id, purchase_date
