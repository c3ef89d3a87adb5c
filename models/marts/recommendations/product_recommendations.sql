-- What BI tools read: each model's top-N not-yet-bought products per customer × affiliate
-- (python_models/recommendations/int_recommendations), with product names and the top two
-- category levels (int_products; null where the dataset has none).
select
    recs.customer_id,
    recs.affiliate_code,
    recs.model_name,
    cast(recs.rank as integer) as rank,
    recs.product_code,
    products.product_name,
    products.category_1 as category_major,
    products.category_2 as category_middle,
    cast(recs.score as double) as score,
    recs.model_version,
    parameters.run_started_at as generated_at
from {{ ref('int_recommendations') }} as recs
inner join {{ ref('int_products') }} as products using (product_code)
cross join {{ ref('int_run_parameters') }} as parameters
