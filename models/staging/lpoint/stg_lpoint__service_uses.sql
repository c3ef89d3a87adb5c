{{ config(materialized='table') }}

-- One row per COP_U row (use of a service affiliate), renamed and typed; nothing is
-- filtered or joined here. int_service_uses_checked decides which rows are quarantined.
with source as (
    {{ numbered_source('lpoint', 'cop_u') }}
),

renamed as (
    select
        'lpoint_cop_u:' || source_line as service_use_id,
        source_line,
        cust as customer_id,
        rct_no as receipt_id,
        cop_c as affiliate_code,
        nullif(trim(br_c), '') as store_id,
        chnl_dv as channel_code,
        case chnl_dv when 1 then 'offline' when 2 then 'online' end as channel,
        {{ yyyymmdd_to_date('de_dt') }} as purchase_date,
        {{ yyyymmdd_to_date('vst_dt') }} as visit_date,
        de_hr as purchase_hour,
        {{ yyyymmdd_to_date('de_dt') }} + to_hours(de_hr) as purchased_at,
        buy_am as amount_krw
    from source
)

select * from renamed
