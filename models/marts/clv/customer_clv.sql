-- Per-customer CLV from the BG/NBD (or Pareto/NBD) + Gamma-Gamma fit on customer_rfm
-- (python_models/clv). Published through this SQL model so its contract is enforced.
select
    customer_id,
    transaction_model,
    p_alive,
    expected_purchases_30d,
    expected_purchases_90d,
    expected_purchases_180d,
    expected_purchases_365d,
    expected_avg_spend,
    clv_1m,
    clv_3m,
    clv_6m,
    clv_12m
from {{ ref('int_clv_predictions') }}
