{{ config(materialized='table') }}

-- One row per customer with a purchase up to observation_end: what every customer model
-- starts from (customer_rfm scores it; the CLV and segmentation Python models fit on it).
--   lifetimes summary (frequency, recency, T, monetary_value; days) — equal to
--   lifetimes.utils.summary_data_from_transaction_data(freq='D');
--   classic RFM inputs (days since last purchase, receipts, total spend),
--   seed 001's L.Pay (M1) / other (M2) spend split (null without a payment flag), the online
--   spend for seed 002's grade, and the returns (null without returns data):
--     return_line_rate   = returned lines / purchase lines (int_transactions lines),
--     return_spend_share = returned spend / purchase spend (total_spend); both up to
--     observation_end, and either may exceed 1 when a customer returns goods bought before the
--     data starts.
with params as (
    select observation_end from {{ ref('int_run_parameters') }}
),

days as (
    select
        customer_id,
        purchase_date,
        spend,
        min(purchase_date) over (partition by customer_id) as first_purchase_date
    from {{ ref('int_customer_daily_spend') }}
    where purchase_date <= (select params.observation_end from params)
),

lifetimes_summary as (
    select
        customer_id,
        min(first_purchase_date) as first_purchase_date,
        max(purchase_date) as last_purchase_date,
        count(*) as n_purchase_days,
        sum(spend) filter (where purchase_date > first_purchase_date) as repeat_spend
    from days
    group by customer_id
),

receipt_totals as (
    select
        customer_id,
        count(*) as n_receipts,
        cast(sum(n_lines) as bigint) as n_purchase_lines,
        sum(spend) as total_spend,
        {% if capability('has_payment_flag') %}
            coalesce(sum(spend) filter (where paid_with_lpay), 0) as lpay_spend,
            coalesce(sum(spend) filter (where not paid_with_lpay), 0) as other_spend,
            count(*) filter (where paid_with_lpay) as lpay_receipts,
        {% else %}
            -- no payment flag: unknown, not zero
            cast(null as decimal(38, 4)) as lpay_spend,
            cast(null as decimal(38, 4)) as other_spend,
            cast(null as bigint) as lpay_receipts,
        {% endif %}
        coalesce(sum(spend) filter (where channel = 'online'), 0) as online_spend
    from {{ ref('int_receipts') }}
    where purchase_date <= (select params.observation_end from params)
    group by customer_id
),

-- L.Point counts the L.Pay file's payments (outside the affiliates too); a generic payment flag
-- marks receipts, so a flagged receipt is one payment; without a flag: unknown (null).
{% if var('source', 'lpoint') == 'lpoint' %}
    lpay_payments as (
        select
            customer_id,
            count(*) as lpay_payments
        from {{ ref('int_lpay_payments_checked') }}
        where
            quarantine_reason is null
            and payment_date <= (select params.observation_end from params)
        group by customer_id
    ),
{% else %}
    lpay_payments as (
        select
            customer_id,
            lpay_receipts as lpay_payments
        from receipt_totals
    ),
{% endif %}

-- Returns (int_returns) up to observation_end: null for every customer when the dataset records
-- none (var has_returns), 0 for a customer without returns when it does.
returns as (
    select
        customer_id,
        count(*) as returned_lines,
        sum(returned_spend) as returned_spend
    from {{ ref('int_returns') }}
    where return_date <= (select params.observation_end from params)
    group by customer_id
)

select
    lifetimes_summary.customer_id,
    lifetimes_summary.first_purchase_date,
    lifetimes_summary.last_purchase_date,
    cast(lifetimes_summary.n_purchase_days - 1 as double) as frequency,
    cast(
        {{ days_between('lifetimes_summary.first_purchase_date', 'lifetimes_summary.last_purchase_date') }}
        as double
    ) as recency,
    cast(
        {{ days_between('lifetimes_summary.first_purchase_date', '(select params.observation_end from params)') }}
        as double
    ) as T,
    coalesce(lifetimes_summary.repeat_spend / nullif(lifetimes_summary.n_purchase_days - 1, 0), 0) as monetary_value,
    {{ days_between('lifetimes_summary.last_purchase_date', '(select params.observation_end from params)') }}
        as days_since_last_purchase,
    lifetimes_summary.n_purchase_days,
    receipt_totals.n_receipts,
    receipt_totals.n_purchase_lines,
    -- money is summed exactly (DECIMAL) and handed on as DOUBLE: the Python models read floats
    cast(receipt_totals.total_spend as double) as total_spend,
    cast(receipt_totals.lpay_spend as double) as lpay_spend,
    cast(receipt_totals.other_spend as double) as other_spend,
    receipt_totals.lpay_receipts,
    {% if capability('has_payment_flag') %}
        coalesce(lpay_payments.lpay_payments, 0) as lpay_payments,
    {% else %}
        cast(null as bigint) as lpay_payments,
    {% endif %}
    cast(receipt_totals.online_spend as double) as online_spend,
    {% if capability('has_returns') %}
        coalesce(returns.returned_lines, 0) as returned_lines,
        cast(coalesce(returns.returned_spend, 0) as double) as returned_spend,
        coalesce(returns.returned_lines, 0) / receipt_totals.n_purchase_lines as return_line_rate,
        cast(coalesce(returns.returned_spend, 0) / receipt_totals.total_spend as double) as return_spend_share
    {% else %}
        cast(null as bigint) as returned_lines,
        cast(null as double) as returned_spend,
        cast(null as double) as return_line_rate,
        cast(null as double) as return_spend_share
    {% endif %}
from lifetimes_summary
inner join receipt_totals using (customer_id)
-- both are read only in the capability branches above (null columns otherwise)
left join lpay_payments using (customer_id)  -- noqa: ST11
left join returns using (customer_id)  -- noqa: ST11
