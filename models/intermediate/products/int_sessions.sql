-- Shopping sessions (seed 003): a customer's purchase lines at one affiliate within the
-- same clock hour offline, or the same day online (macro session_start). session_id hashes
-- that key, so it is the same in every build. Hashing once per session (not per line) keeps
-- this cheap.
with keyed as (
    select
        *,
        {{ session_start('channel', 'purchased_at') }} as session_start
    from {{ ref('int_purchase_lines') }}
)

select
    substr(
        md5(customer_id || '|' || affiliate_code || '|' || channel || '|' || strftime(session_start, '%Y-%m-%d %H')),
        1, 16
    ) as session_id,
    customer_id,
    affiliate_code,
    channel,
    session_start,
    count(*) as n_lines,
    cast(sum(quantity) as bigint) as n_units,
    sum(spend) as spend,
    list_sort(list_distinct(list(product_code))) as product_codes,
    list_sort(list_distinct(list(category_major))) as category_majors,
    bool_or(paid_with_lpay) as paid_with_lpay
from keyed
group by customer_id, affiliate_code, channel, session_start
