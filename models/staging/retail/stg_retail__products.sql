-- One row per product of the generic contract (the user's products file, or the product ids of
-- the transactions), renamed.
with source as (
    select * from {{ source('retail', 'products') }}
)

select
    product_id as product_code,
    product_name,
    category_1,
    category_2,
    category_3,
    is_non_product
from source
