{{ config(materialized='view') }}

-- Every purchase line with the id of its session (int_sessions, same rule: macro
-- session_start): what the recommenders read. A view: the join is cheap and the lines are not
-- stored twice. spend as DOUBLE: the Python models read floats, not DECIMAL objects.
select
    sessions.session_id,
    lines.transaction_line_id,
    lines.customer_id,
    lines.receipt_id,
    lines.affiliate_code,
    lines.channel,
    lines.product_code,
    lines.category_major,
    lines.category_middle,
    lines.purchased_at,
    lines.purchase_date,
    cast(lines.spend as double) as spend,
    lines.quantity,
    lines.paid_with_lpay,
    sessions.session_start
from {{ ref('int_purchase_lines') }} as lines
inner join {{ ref('int_sessions') }} as sessions
    on
        lines.customer_id = sessions.customer_id
        and lines.affiliate_code = sessions.affiliate_code
        and lines.channel = sessions.channel
        and {{ session_start('lines.channel', 'lines.purchased_at') }} = sessions.session_start
