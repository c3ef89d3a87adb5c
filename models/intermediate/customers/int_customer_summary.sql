{{ config(materialized='table') }}

-- One row per customer with a purchase up to observation_end: what every customer model
-- starts from (customer_rfm scores it; the CLV and segmentation Python models fit on it).
--   lifetimes summary (frequency, recency, T, monetary_value; days) — equal to
--   lifetimes.utils.summary_data_from_transaction_data(freq='D');
--   classic RFM inputs (days since last purchase, receipts, total spend),
--   seed 001's L.Pay (M1) / other (M2) spend split and the online spend for seed 002's grade.
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
        sum(spend) as total_spend,
        coalesce(sum(spend) filter (where paid_with_lpay), 0) as lpay_spend,
        coalesce(sum(spend) filter (where not paid_with_lpay), 0) as other_spend,
        count(*) filter (where paid_with_lpay) as lpay_receipts,
        coalesce(sum(spend) filter (where channel = 'online'), 0) as online_spend
    from {{ ref('int_receipts') }}
    where purchase_date <= (select params.observation_end from params)
    group by customer_id
),

{% if var('dataset') == 'lpoint' %}
    lpay_payments as (
        select
            customer_id,
            count(*) as lpay_payments
        from {{ ref('int_lpay_payments_checked') }}
        where
            quarantine_reason is null
            and payment_date <= (select params.observation_end from params)
        group by customer_id
    )
{% else %}
    lpay_payments as (
        select
            cast(null as varchar) as customer_id,
            cast(0 as bigint) as lpay_payments
        where false
    )
{% endif %}

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
    receipt_totals.total_spend,
    receipt_totals.lpay_spend,
    receipt_totals.other_spend,
    receipt_totals.lpay_receipts,
    coalesce(lpay_payments.lpay_payments, 0) as lpay_payments,
    receipt_totals.online_spend
from lifetimes_summary
inner join receipt_totals using (customer_id)
left join lpay_payments using (customer_id)
