-- Customer attributes of the generic contract, long (one row per customer and attribute with a
-- value), as ingest wrote them from the customers file and the config's attributes.
with source as (
    select * from {{ source('retail', 'customer_attributes') }}
)

select
    customer_id,
    attribute,
    attribute_position,
    value_text,
    value_number
from source
