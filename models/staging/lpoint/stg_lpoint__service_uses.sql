{{ config(materialized='table') }}

-- One row per COP_U row (use of a service affiliate), typed and renamed, with the same
-- quarantine rules as the purchase lines.
with source as (
    {{ numbered_source('lpoint', 'cop_u') }}
),

typed as (
    select
        source_line,
        cust as customer_id,
        rct_no as receipt_id,
        cop_c as affiliate_code,
        nullif(trim(br_c), '') as store_id,
        case chnl_dv when 1 then 'offline' when 2 then 'online' end as channel,
        {{ yyyymmdd_to_date('de_dt') }} as purchase_date,
        {{ yyyymmdd_to_date('vst_dt') }} as visit_date,
        de_hr as purchase_hour,
        buy_am as amount_krw,
        row_number() over (
            partition by cust, rct_no, cop_c, br_c, chnl_dv, de_dt, vst_dt, de_hr, buy_am
            order by source_line
        ) as copy_number
    from source
)

select
    'lpoint_cop_u:' || source_line as service_use_id,
    source_line,
    typed.customer_id,
    typed.receipt_id,
    typed.affiliate_code,
    typed.store_id,
    typed.channel,
    typed.purchase_date,
    typed.visit_date,
    typed.purchase_hour,
    typed.purchase_date + to_hours(typed.purchase_hour) as purchased_at,
    typed.amount_krw,
    case
        when typed.copy_number > 1 then 'duplicate_line'
        when customers.customer_id is null then 'unknown_customer'
        when affiliates.affiliate_code is null or affiliates.affiliate_kind != 'service' then 'unknown_affiliate'
        when typed.channel is null then 'unknown_channel'
        when typed.amount_krw <= 0 then 'non_positive_amount'
        when typed.amount_krw > {{ var('max_line_amount') }} then 'implausible_amount'
        when typed.purchase_date not between {{ period_start() }} and {{ period_end() }} then 'date_outside_period'
    end as quarantine_reason
from typed
left join {{ ref('stg_lpoint__customers') }} as customers using (customer_id)
left join {{ ref('affiliates') }} as affiliates using (affiliate_code)
