-- What BI reads by default: per customer × affiliate × recommendation kind the list of that
-- kind's champion (the best model on the inner split, recommendation_champions) only.
select
    customer_id,
    affiliate_code,
    recommendation_kind,
    rank,
    product_code,
    product_name,
    category_major,
    category_middle,
    purchase_probability,
    score,
    reason,
    model_name,
    model_version,
    generated_at
from {{ ref('product_recommendations') }}
where is_champion
