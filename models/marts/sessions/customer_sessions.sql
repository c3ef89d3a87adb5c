-- One row per shopping session (seed 003 rule; see int_session_lines).
select
    session_id,
    any_value(customer_id) as customer_id,
    any_value(affiliate_code) as affiliate_code,
    any_value(channel) as channel,
    any_value(session_start) as session_start,
    cast(any_value(session_start) as date) as session_date,
    count(*) as n_lines,
    cast(sum(quantity) as bigint) as n_units,
    sum(amount) as spend,
    count(distinct product_code) as n_products,
    count(distinct category_major) as n_categories,
    string_agg(distinct category_major, ', ' order by category_major) as categories,
    bool_or(paid_with_lpay) as paid_with_lpay
from {{ ref('int_session_lines') }}
where purchase_date <= {{ observation_end() }}
group by session_id
