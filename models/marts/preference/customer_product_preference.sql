-- Seed 000's preference score per affiliate × customer × product, from all history up to
-- observation_end (int_preference_scores; macro preference_scores documents the components).
select
    affiliate_code,
    customer_id,
    product_code,
    category_major,
    n_purchases,
    n_purchase_days,
    first_purchase_date,
    last_purchase_date,
    own_mean_interval_days,
    mean_interval_days,
    interval_is_fallback,
    category_share,
    interval_ratio,
    buy_level,
    category_level,
    interval_level,
    preference_score
from {{ ref('int_preference_scores') }}
