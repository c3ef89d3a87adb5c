-- Each customer's sessions in time order, items as lists: what a sequential recommender
-- reads directly (one row per customer × session, session_index 1..n).
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
    cast(spend as double) as spend,
    date_diff(
        'minute', lag(session_start) over (partition by customer_id order by session_start, session_id), session_start
    )
    / 1440.0
        as days_since_previous_session
from {{ ref('int_sessions') }}
where cast(session_start as date) <= {{ observation_end() }}
