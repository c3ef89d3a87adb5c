{{ config(materialized='table') }}

-- One row per line of the user's transactions file (the generic contract), renamed; ingest
-- already typed every column from the mapping config. int_retail_lines_checked decides which
-- lines are quarantined and which are returns. A table: the file is scanned once.
with source as (
    select * from {{ source('retail', 'transactions') }}
)

select
    'retail:' || source_line as transaction_line_id,
    source_file,
    source_line,
    customer_id,
    receipt_id,
    purchased_at,
    cast(purchased_at as date) as purchase_date,
    product_id as product_code,
    product_name,
    quantity,
    unit_price,
    amount,
    store_id,
    channel as channel_text,
    business_unit as affiliate_code,
    payment_flag as paid_with_flag,
    is_cancellation as is_cancellation_receipt,
    is_non_product
from source
