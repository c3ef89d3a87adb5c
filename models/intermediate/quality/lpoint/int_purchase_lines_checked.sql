{{ config(materialized='table') }}

-- Every PDDE line with its quarantine_reason (null = clean; first matching rule wins, macro
-- quarantine_reason, docs/bad_input.md). int_transactions keeps the clean lines,
-- int_quarantined_rows lists the others with their file line. The ladder reads the amount as
-- read (a DOUBLE: 1e15 is data to quarantine, not a cast error); spend is that amount as money,
-- DECIMAL(18,4), from here on (null only for amounts a bound has already quarantined).
with lines as (
    select * from {{ ref('stg_lpoint__purchase_lines') }}
),

customers as (
    select customer_id from {{ ref('stg_lpoint__customers') }}
),

products as (
    select product_code from {{ ref('stg_lpoint__products') }}
),

retail_affiliates as (
    select affiliate_code from {{ ref('affiliates') }}
    where affiliate_kind = 'retail'
),

-- An exact copy of an earlier line (every column) is a duplicate; the first copy is kept.
numbered as (
    {{ copy_numbers('lines', [
        'customer_id', 'receipt_id', 'channel_code', 'affiliate_code', 'store_id',
        'product_code', 'purchase_date', 'purchase_hour', 'amount_krw', 'quantity'
    ]) }}
),

flagged as (
    select
        numbered.*,
        numbered.amount_krw as amount,
        customers.customer_id is not null as is_known_customer,
        products.product_code is not null as is_known_product,
        retail_affiliates.affiliate_code is not null as is_known_affiliate
    from numbered
    left join customers using (customer_id)
    left join products using (product_code)
    left join retail_affiliates using (affiliate_code)
)

select
    purchase_line_id,
    source_line,
    customer_id,
    receipt_id,
    channel,
    affiliate_code,
    store_id,
    product_code,
    purchase_date,
    purchase_hour,
    purchased_at,
    amount,
    try_cast(amount as decimal(18, 4)) as spend,
    quantity,
    {{ quarantine_reason(
        ['duplicate_line', 'unknown_customer', 'unknown_product', 'unknown_affiliate', 'unknown_channel',
         'non_positive_amount', 'implausible_amount', 'non_positive_quantity', 'implausible_quantity',
         'date_outside_period'],
        date_column='purchase_date'
    ) }} as quarantine_reason
from flagged
