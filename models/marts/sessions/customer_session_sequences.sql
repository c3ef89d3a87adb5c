-- Each customer's sessions in time order, items as lists: what a sequential recommender
-- reads directly (one row per customer × session, session_index 1..n).
with sessions as (
    select
        session_id,
        any_value(customer_id) as customer_id,
        any_value(affiliate_code) as affiliate_code,
        any_value(channel) as channel,
        any_value(session_start) as session_start,
        list(distinct product_code order by product_code) as product_codes,
        list(distinct category_major order by category_major) as category_majors,
        cast(sum(quantity) as bigint) as n_units,
        sum(amount) as spend
    from {{ ref('int_session_lines') }}
    where purchase_date <= {{ observation_end() }}
    group by session_id
)

select
    customer_id,
    row_number() over (partition by customer_id order by session_start, session_id) as session_index,
    session_id,
    session_start,
    affiliate_code,
    channel,
    product_codes,
    category_majors,
    n_units,
    spend,
    date_diff('minute', lag(session_start) over (partition by customer_id order by session_start, session_id), session_start) / 1440.0
        as days_since_previous_session
from sessions
