-- Every published model's top-N per customer × affiliate × recommendation kind
-- (python_models/recommendations/int_recommendations), with the calibrated purchase
-- probability, the champion flag, product names and the top two category levels (int_products;
-- null where the dataset has none).
select
    recs.customer_id,
    recs.affiliate_code,
    recs.model_name,
    recs.recommendation_kind,
    cast(recs.rank as integer) as rank,
    recs.product_code,
    products.product_name,
    products.category_1 as category_major,
    products.category_2 as category_middle,
    cast(recs.purchase_probability as double) as purchase_probability,
    cast(recs.score as double) as score,
    cast(recs.is_champion as boolean) as is_champion,
    reasons.reason,
    recs.model_version,
    parameters.run_started_at as generated_at
from {{ ref('int_recommendations') }} as recs
inner join {{ ref('int_products') }} as products using (product_code)
left join {{ ref('int_recommendation_reasons') }} as reasons
    using (customer_id, affiliate_code, recommendation_kind, product_code)
cross join {{ ref('int_run_parameters') }} as parameters
