{{ config(materialized='table') }}

-- One row per L.Pay payment, renamed and typed; nothing is filtered or joined here.
-- A payment flags the receipt it paid (receipt_id); it is not extra spend.
-- int_lpay_payments_checked decides which payments are quarantined (orphans included).
with source as (
    {{ numbered_source('lpoint', 'lpay') }}
),

renamed as (
    select
        'lpoint_lpay:' || source_line as lpay_payment_id,
        source_line,
        cust as customer_id,
        rct_no as receipt_id,
        cop_c as affiliate_code,
        chnl_dv as channel_code,
        case chnl_dv when 1 then 'offline' when 2 then 'online' end as channel,
        {{ yyyymmdd_to_date('de_dt') }} as payment_date,
        de_hr as payment_hour,
        {{ yyyymmdd_to_date('de_dt') }} + to_hours(de_hr) as paid_at,
        buy_am as amount_krw
    from source
)

select * from renamed
