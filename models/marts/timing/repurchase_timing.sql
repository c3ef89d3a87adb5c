{{ config(enabled=capability('has_products')) }}
-- When each customer buys each item again (docs/timing.md): per customer × product (and × major
-- category when the dataset has categories) bought on two or more days up to observation_end,
-- the stored pooled renewal model's P(buy within 7 / 14 / 30 days), expected next date and days
-- overdue (int_repurchase_timing: fitted on history up to observation_end, applied, no refit).
select
    cast(customer_id as varchar) as customer_id,
    cast(item_level as varchar) as item_level,
    cast(item_id as varchar) as item_id,
    cast(n_purchase_days as integer) as n_purchase_days,
    cast(last_purchase_date as date) as last_purchase_date,
    cast(mean_interval_days as double) as mean_interval_days,
    cast(expected_interval_days as double) as expected_interval_days,
    cast(p_buy_7d as double) as p_buy_7d,
    cast(p_buy_14d as double) as p_buy_14d,
    cast(p_buy_30d as double) as p_buy_30d,
    cast(expected_next_date as date) as expected_next_date,
    cast(days_overdue as integer) as days_overdue,
    cast(model_name as varchar) as model_name,
    cast(model_version as varchar) as model_version
from {{ ref('int_repurchase_timing') }}
