{{ config(materialized='table') }}

-- Every L.Pay payment with its quarantine_reason: the service uses' rules plus
-- orphan_payment, the last rule: an affiliate payment (not L00/L01) whose (customer, receipt)
-- has no clean PDDE line or COP_U row. Counting it would add an L.Pay payment without the
-- spend it paid (docs/bad_input.md, "Orphan payments").
with payments as (
    select * from {{ ref('stg_lpoint__lpay_payments') }}
),

customers as (
    select customer_id from {{ ref('stg_lpoint__customers') }}
),

affiliates as (
    select
        affiliate_code,
        affiliate_kind
    from {{ ref('affiliates') }}
),

-- The receipts that reach int_transactions, once each.
clean_receipts as (
    select
        customer_id,
        receipt_id
    from {{ ref('int_purchase_lines_checked') }}
    where quarantine_reason is null
    union
    select
        customer_id,
        receipt_id
    from {{ ref('int_service_uses_checked') }}
    where quarantine_reason is null
),

-- An exact copy of an earlier payment (every column) is a duplicate; the first copy is kept.
numbered as (
    {{ copy_numbers('payments', [
        'customer_id', 'receipt_id', 'affiliate_code', 'channel_code',
        'payment_date', 'payment_hour', 'amount_krw'
    ]) }}
),

flagged as (
    select
        numbered.*,
        numbered.amount_krw as amount,
        coalesce(affiliates.affiliate_kind = 'lpay', false) as is_outside_affiliates,
        customers.customer_id is not null as is_known_customer,
        affiliates.affiliate_code is not null as is_known_affiliate,
        affiliates.affiliate_kind != 'lpay' and clean_receipts.receipt_id is null as is_orphan_payment
    from numbered
    left join customers using (customer_id)
    left join affiliates using (affiliate_code)
    left join clean_receipts
        on
            numbered.customer_id = clean_receipts.customer_id
            and numbered.receipt_id = clean_receipts.receipt_id
)

select
    lpay_payment_id,
    source_line,
    customer_id,
    receipt_id,
    affiliate_code,
    channel,
    payment_date,
    payment_hour,
    paid_at,
    amount,
    try_cast(amount as decimal(18, 4)) as spend,
    is_outside_affiliates,
    {{ quarantine_reason(
        ['duplicate_line', 'unknown_customer', 'unknown_affiliate', 'unknown_channel',
         'non_positive_amount', 'implausible_amount', 'date_outside_period', 'orphan_payment'],
        date_column='payment_date'
    ) }} as quarantine_reason
from flagged
