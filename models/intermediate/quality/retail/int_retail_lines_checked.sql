{{ config(materialized='table') }}

-- Every line of the generic contract with its line_kind and quarantine_reason (null = clean;
-- first matching rule wins, macro quarantine_reason, docs/bad_input.md).
--   line_kind: 'return' when the dataset records returns (var has_returns) and the line is on a
--   cancellation receipt (the config's rule) or has a negative quantity; else 'purchase'. A
--   return passes the ladder the quantity and amount it returns (their absolute values), so a
--   return of nothing is set aside like a purchase of nothing. Without has_returns a negative
--   quantity is quarantined as non_positive_quantity, as in L.Point.
-- int_transactions keeps the clean purchases, int_returns the clean returns,
-- int_quarantined_rows lists the others with their file line.
with lines as (
    select * from {{ ref('stg_retail__transactions') }}
),

products as (
    select product_code from {{ ref('stg_retail__products') }}
),

-- An exact copy of an earlier line (every mapped column) is a duplicate; the first copy is kept.
numbered as (
    select
        *,
        row_number() over (
            partition by
                customer_id, receipt_id, purchased_at, product_code, product_name, quantity, unit_price,
                amount, store_id, channel_text, affiliate_code, paid_with_flag
            order by source_line
        ) as copy_number
    from lines
),

flagged as (
    select
        -- the excluded names are numbered's columns (sqlfluff cannot tell)
        numbered.* exclude (amount, quantity),  -- noqa: RF02
        numbered.amount as line_amount,
        numbered.quantity as line_quantity,
        {% if capability('has_returns') %}
            (numbered.is_cancellation_receipt or numbered.quantity < 0) as is_return,
        {% else %}
            false as is_return,
        {% endif %}
        case when numbered.channel_text in ('online', 'offline') then numbered.channel_text end as channel,
        products.product_code is not null as is_known_product
    from numbered
    left join products using (product_code)
),

-- what the ladder checks: the line's amount and quantity, or what a return gives back
measured as (
    select
        *,
        case when is_return then abs(line_amount) else line_amount end as amount,
        case when is_return then abs(line_quantity) else line_quantity end as quantity
    from flagged
)

select
    transaction_line_id,
    source_file,
    source_line,
    customer_id,
    receipt_id,
    affiliate_code,
    channel,
    store_id,
    product_code,
    is_non_product,
    purchased_at,
    purchase_date,
    line_quantity,
    line_amount,
    quantity,
    amount as spend,
    paid_with_flag,
    is_cancellation_receipt,
    case when is_return then 'return' else 'purchase' end as line_kind,
    {{ quarantine_reason(
        ['duplicate_line', 'missing_customer', 'unknown_product', 'unknown_channel', 'non_positive_amount',
         'implausible_amount', 'non_positive_quantity', 'implausible_quantity', 'date_outside_period'],
        date_column='purchase_date'
    ) }} as quarantine_reason
from measured
