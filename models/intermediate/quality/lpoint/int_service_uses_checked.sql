{{ config(materialized='table') }}

-- Every COP_U row with its quarantine_reason: the purchase lines' rules without the
-- product and quantity checks (macro quarantine_reason, docs/bad_input.md). amount as read,
-- spend as money (DECIMAL(18,4)), as in int_purchase_lines_checked.
with service_uses as (
    select * from {{ ref('stg_lpoint__service_uses') }}
),

customers as (
    select customer_id from {{ ref('stg_lpoint__customers') }}
),

service_affiliates as (
    select affiliate_code from {{ ref('affiliates') }}
    where affiliate_kind = 'service'
),

-- An exact copy of an earlier row (every column) is a duplicate; the first copy is kept.
numbered as (
    {{ copy_numbers('service_uses', [
        'customer_id', 'receipt_id', 'affiliate_code', 'store_id', 'channel_code',
        'purchase_date', 'visit_date', 'purchase_hour', 'amount_krw'
    ]) }}
),

flagged as (
    select
        numbered.*,
        numbered.amount_krw as amount,
        customers.customer_id is not null as is_known_customer,
        service_affiliates.affiliate_code is not null as is_known_affiliate
    from numbered
    left join customers using (customer_id)
    left join service_affiliates using (affiliate_code)
)

select
    service_use_id,
    source_line,
    customer_id,
    receipt_id,
    affiliate_code,
    store_id,
    channel,
    purchase_date,
    visit_date,
    purchase_hour,
    purchased_at,
    amount,
    try_cast(amount as decimal(18, 4)) as spend,
    {{ quarantine_reason(
        ['duplicate_line', 'unknown_customer', 'unknown_affiliate', 'unknown_channel',
         'non_positive_amount', 'implausible_amount', 'date_outside_period'],
        date_column='purchase_date'
    ) }} as quarantine_reason
from flagged
