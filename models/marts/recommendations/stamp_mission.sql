-- Seed 000's "stamp mission": per customer the 5 major categories with the highest mean
-- predicted preference over unbought products, and 4 unbought products under each.
select
    mission.customer_id,
    cast(mission.category_rank as integer) as category_rank,
    mission.category_major,
    cast(mission.category_mean_score as double) as category_mean_score,
    cast(mission.product_rank as integer) as product_rank,
    mission.product_code,
    products.product_name,
    cast(mission.score as double) as score,
    mission.model_name,
    parameters.run_started_at as generated_at
from {{ ref('int_stamp_mission') }} as mission
inner join {{ ref('int_products') }} as products using (product_code)
cross join {{ ref('int_run_parameters') }} as parameters
