{{ config(materialized='table') }}

-- One row per L.Pay payment. A payment flags the receipt it paid (receipt_id); it is not
-- extra spend. L00/L01 are payments outside the affiliates and have no PDDE/COP_U receipt.
-- An affiliate payment whose receipt (same customer) has no clean PDDE line or COP_U row is
-- an orphan_payment: counting it would add an L.Pay payment without the spend it paid.
-- (Reads the two other staging models' quarantine_reason; docs/bad_input.md.)
with source as (
    {{ numbered_source('lpoint', 'lpay') }}
),

-- The receipts that reach int_transactions, once each.
clean_receipts as (
    select customer_id, receipt_id
    from {{ ref('stg_lpoint__purchase_lines') }}
    where quarantine_reason is null
    union
    select customer_id, receipt_id
    from {{ ref('stg_lpoint__service_uses') }}
    where quarantine_reason is null
),

typed as (
    select
        source_line,
        cust as customer_id,
        rct_no as receipt_id,
        cop_c as affiliate_code,
        case chnl_dv when 1 then 'offline' when 2 then 'online' end as channel,
        {{ yyyymmdd_to_date('de_dt') }} as payment_date,
        de_hr as payment_hour,
        buy_am as amount_krw,
        row_number() over (
            partition by cust, rct_no, cop_c, chnl_dv, de_dt, de_hr, buy_am
            order by source_line
        ) as copy_number
    from source
)

select
    'lpoint_lpay:' || source_line as lpay_payment_id,
    source_line,
    typed.customer_id,
    typed.receipt_id,
    typed.affiliate_code,
    typed.channel,
    typed.payment_date,
    typed.payment_hour,
    typed.payment_date + to_hours(typed.payment_hour) as paid_at,
    typed.amount_krw,
    coalesce(affiliates.affiliate_kind = 'lpay', false) as is_outside_affiliates,
    case
        when typed.copy_number > 1 then 'duplicate_line'
        when customers.customer_id is null then 'unknown_customer'
        when affiliates.affiliate_code is null then 'unknown_affiliate'
        when typed.channel is null then 'unknown_channel'
        when typed.amount_krw <= 0 then 'non_positive_amount'
        when typed.amount_krw > {{ var('max_line_amount') }} then 'implausible_amount'
        when typed.payment_date not between {{ period_start() }} and {{ period_end() }} then 'date_outside_period'
        when affiliates.affiliate_kind != 'lpay' and clean_receipts.receipt_id is null then 'orphan_payment'
    end as quarantine_reason
from typed
left join {{ ref('stg_lpoint__customers') }} as customers using (customer_id)
left join {{ ref('affiliates') }} as affiliates using (affiliate_code)
left join clean_receipts
    on clean_receipts.customer_id = typed.customer_id
    and clean_receipts.receipt_id = typed.receipt_id
