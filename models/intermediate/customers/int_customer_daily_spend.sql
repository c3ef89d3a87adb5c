-- Customer × purchase day (lifetimes' freq='D' unit): spend and receipts. All days in the
-- data; consumers cut at observation_end or calibration_end.
select
    customer_id,
    purchase_date,
    sum(spend) as spend,
    count(*) as n_receipts
from {{ ref('int_receipts') }}
group by customer_id, purchase_date
