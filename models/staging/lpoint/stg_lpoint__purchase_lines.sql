{{ config(materialized='table') }}

-- One row per PDDE line, renamed and typed; nothing is filtered or joined here.
-- int_purchase_lines_checked decides which lines are quarantined (docs/bad_input.md).
-- A table: the 4.5M-line CSV is scanned once, not once per test and per reader.
with source as (
    {{ numbered_source('lpoint', 'pdde') }}
),

renamed as (
    select
        'lpoint_pdde:' || source_line as purchase_line_id,
        source_line,
        cust as customer_id,
        rct_no as receipt_id,
        chnl_dv as channel_code,
        case chnl_dv when 1 then 'offline' when 2 then 'online' end as channel,
        cop_c as affiliate_code,
        nullif(trim(br_c), '') as store_id,
        pd_c as product_code,
        {{ yyyymmdd_to_date('de_dt') }} as purchase_date,
        de_hr as purchase_hour,
        {{ yyyymmdd_to_date('de_dt') }} + to_hours(de_hr) as purchased_at,
        buy_am as amount_krw,
        buy_ct as quantity
    from source
)

select * from renamed
