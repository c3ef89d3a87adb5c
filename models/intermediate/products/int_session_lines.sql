{{ config(materialized='view') }}

-- Every purchase line with the id of its session (int_sessions): what the sequential
-- recommender reads. A view: the join is cheap and the lines are not stored twice.
select
    sessions.session_id,
    lines.*,
    sessions.session_start
from {{ ref('int_purchase_lines') }} as lines
inner join {{ ref('int_sessions') }} as sessions
    on lines.customer_id = sessions.customer_id
    and lines.affiliate_code = sessions.affiliate_code
    and lines.channel = sessions.channel
    and case lines.channel
            when 'online' then date_trunc('day', lines.purchased_at)
            else date_trunc('hour', lines.purchased_at)
        end = sessions.session_start
