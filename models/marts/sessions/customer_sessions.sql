-- One row per shopping session (seed 003 rule; see int_sessions), up to observation_end.
select
    session_id,
    customer_id,
    affiliate_code,
    channel,
    session_start,
    cast(session_start as date) as session_date,
    n_lines,
    n_units,
    cast(spend as double) as spend,
    cast(len(product_codes) as bigint) as n_products,
    -- null, not 0, when the dataset records no categories (Online Retail)
    cast(nullif(len(category_majors), 0) as bigint) as n_categories,
    nullif(array_to_string(category_majors, ', '), '') as categories,
    paid_with_lpay
from {{ ref('int_sessions') }}
where cast(session_start as date) <= {{ observation_end() }}
