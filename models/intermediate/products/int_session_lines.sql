-- Every purchase line with its shopping session (seed 003): offline, one session per
-- customer × affiliate × hour; online, per customer × affiliate × day.
-- session_id is a hash of that key, so it is the same in every build.
with keyed as (
    select
        *,
        case channel
            when 'online' then date_trunc('day', purchased_at)
            else date_trunc('hour', purchased_at)
        end as session_start
    from {{ ref('int_purchase_lines') }}
)

select
    substr(md5(customer_id || '|' || affiliate_code || '|' || channel || '|' || strftime(session_start, '%Y-%m-%d %H')), 1, 16)
        as session_id,
    *
from keyed
