-- Seed 000's reliability table (int_preference_backtest): per affiliate and threshold
-- 0.0, 0.5 … 4.5 the pairs scoring at least that much as of calibration_end and the share
-- of them the customer bought again after it, up to observation_end.
select
    affiliate_code,
    threshold,
    n_pairs,
    n_repurchased,
    repurchase_rate
from {{ ref('int_preference_backtest') }}
