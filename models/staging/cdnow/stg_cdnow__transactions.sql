{{ config(materialized='table') }}

-- CDNOW has no products, stores or receipts: each transaction is its own receipt.
with source as (
    {{ numbered_source('cdnow', 'transactions') }}
)

select
    'cdnow:' || source_line as transaction_line_id,
    source_line,
    customer_id,
    'cdnow:' || source_line as receipt_id,
    purchase_date,
    cast(purchase_date as timestamp) as purchased_at,
    quantity,
    amount as amount_usd
from source
