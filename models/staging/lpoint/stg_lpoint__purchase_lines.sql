{{ config(materialized='table') }}

-- One row per PDDE line, typed and renamed. Lines that parse but cannot be trusted get a
-- quarantine_reason (first matching rule wins; docs/bad_input.md); int_transactions keeps
-- only the clean ones and int_quarantined_rows lists the rest with their file line.
-- Amounts / quantities beyond the vars max_line_amount / max_line_quantity are implausible.
with source as (
    {{ numbered_source('lpoint', 'pdde') }}
),

typed as (
    select
        source_line,
        cust as customer_id,
        rct_no as receipt_id,
        case chnl_dv when 1 then 'offline' when 2 then 'online' end as channel,
        cop_c as affiliate_code,
        nullif(trim(br_c), '') as store_id,
        pd_c as product_code,
        {{ yyyymmdd_to_date('de_dt') }} as purchase_date,
        de_hr as purchase_hour,
        buy_am as amount_krw,
        buy_ct as quantity,
        row_number() over (
            partition by cust, rct_no, chnl_dv, cop_c, br_c, pd_c, de_dt, de_hr, buy_am, buy_ct
            order by source_line
        ) as copy_number
    from source
)

select
    'lpoint_pdde:' || source_line as purchase_line_id,
    source_line,
    typed.customer_id,
    typed.receipt_id,
    typed.channel,
    typed.affiliate_code,
    typed.store_id,
    typed.product_code,
    typed.purchase_date,
    typed.purchase_hour,
    typed.purchase_date + to_hours(typed.purchase_hour) as purchased_at,
    typed.amount_krw,
    typed.quantity,
    case
        when typed.copy_number > 1 then 'duplicate_line'
        when customers.customer_id is null then 'unknown_customer'
        when products.product_code is null then 'unknown_product'
        when affiliates.affiliate_code is null or affiliates.affiliate_kind != 'retail' then 'unknown_affiliate'
        when typed.channel is null then 'unknown_channel'
        when typed.amount_krw <= 0 then 'non_positive_amount'
        when typed.amount_krw > {{ var('max_line_amount') }} then 'implausible_amount'
        when typed.quantity <= 0 then 'non_positive_quantity'
        when typed.quantity > {{ var('max_line_quantity') }} then 'implausible_quantity'
        when typed.purchase_date not between {{ period_start() }} and {{ period_end() }} then 'date_outside_period'
    end as quarantine_reason
from typed
left join {{ ref('stg_lpoint__customers') }} as customers using (customer_id)
left join {{ ref('stg_lpoint__products') }} as products using (product_code)
left join {{ ref('affiliates') }} as affiliates using (affiliate_code)
