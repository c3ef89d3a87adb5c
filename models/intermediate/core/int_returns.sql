-- The canonical returns: clean return lines (the generic contract with var has_returns: lines on
-- a cancellation receipt or with a negative quantity; int_retail_lines_checked). Never purchases:
-- int_transactions never holds them. returned_quantity and returned_spend are what the line gives
-- back, as positive numbers. No rows for datasets without returns data (L.Point's negative
-- amounts are quarantined as non_positive_amount; CDNOW records none); the customer marts'
-- return columns are null for them.
{% if var('source', 'lpoint') == 'retail' and capability('has_returns') %}
    select
        transaction_line_id as return_line_id,
        source_line,
        customer_id,
        receipt_id,
        affiliate_code,
        channel,
        store_id,
        product_code,
        is_non_product,
        purchased_at as returned_at,
        purchase_date as return_date,
        quantity as returned_quantity,
        spend as returned_spend,
        is_cancellation_receipt
    from {{ ref('int_retail_lines_checked') }}
    where quarantine_reason is null and line_kind = 'return'
{% else %}
    select
        cast(null as varchar) as return_line_id,
        cast(null as bigint) as source_line,
        cast(null as varchar) as customer_id,
        cast(null as varchar) as receipt_id,
        cast(null as varchar) as affiliate_code,
        cast(null as varchar) as channel,
        cast(null as varchar) as store_id,
        cast(null as varchar) as product_code,
        cast(null as boolean) as is_non_product,
        cast(null as timestamp) as returned_at,
        cast(null as date) as return_date,
        cast(null as integer) as returned_quantity,
        cast(null as decimal(18, 4)) as returned_spend,
        cast(null as boolean) as is_cancellation_receipt
    where false
{% endif %}
