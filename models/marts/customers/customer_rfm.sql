{{ config(materialized='table') }}

-- Customer-grain RFM as of observation_end, in two families:
--   lifetimes summary (frequency, recency, T, monetary_value; days) — equal to
--   lifetimes.utils.summary_data_from_transaction_data(freq='D');
--   classic RFM (days since last purchase, receipts, spend, tie-aware quintile scores),
--   seed 001's L.Pay (M1) / other (M2) spend split and seed 002's online spend grade.
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
    where purchase_date <= (select observation_end from params)
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

spend as (
    select
        customer_id,
        count(*) as n_receipts,
        sum(amount) as total_spend,
        coalesce(sum(amount) filter (where paid_with_lpay), 0) as lpay_spend,
        coalesce(sum(amount) filter (where not paid_with_lpay), 0) as other_spend,
        count(*) filter (where paid_with_lpay) as lpay_receipts,
        coalesce(sum(amount) filter (where channel = 'online'), 0) as online_spend
    from {{ ref('int_receipts') }}
    where purchase_date <= (select observation_end from params)
    group by customer_id
),

{% if var('dataset') == 'lpoint' %}
lpay_payments as (
    select customer_id, count(*) as lpay_payments
    from {{ ref('stg_lpoint__lpay_payments') }}
    where quarantine_reason is null
      and payment_date <= (select observation_end from params)
    group by customer_id
),
{% else %}
lpay_payments as (
    select cast(null as varchar) as customer_id, cast(0 as bigint) as lpay_payments
    where false
),
{% endif %}

combined as (
    select
        lifetimes_summary.customer_id,
        lifetimes_summary.first_purchase_date,
        lifetimes_summary.last_purchase_date,
        cast(lifetimes_summary.n_purchase_days - 1 as double) as frequency,
        cast({{ days_between('lifetimes_summary.first_purchase_date', 'lifetimes_summary.last_purchase_date') }} as double) as recency,
        cast({{ days_between('lifetimes_summary.first_purchase_date', '(select observation_end from params)') }} as double) as T,
        coalesce(lifetimes_summary.repeat_spend / nullif(lifetimes_summary.n_purchase_days - 1, 0), 0) as monetary_value,
        {{ days_between('lifetimes_summary.last_purchase_date', '(select observation_end from params)') }} as days_since_last_purchase,
        lifetimes_summary.n_purchase_days,
        spend.n_receipts,
        spend.total_spend,
        spend.lpay_spend,
        spend.other_spend,
        spend.lpay_receipts,
        coalesce(lpay_payments.lpay_payments, 0) as lpay_payments,
        spend.online_spend
    from lifetimes_summary
    inner join spend using (customer_id)
    left join lpay_payments using (customer_id)
),

scored as (
    select
        *,
        -- 5 = most recent / most receipts / most spend; equal values share a score.
        {{ rank_bucket('days_since_last_purchase', 5, 'desc') }} as r_score,
        {{ rank_bucket('n_receipts', 5, 'asc') }} as f_score,
        {{ rank_bucket('total_spend', 5, 'asc') }} as m_score
    from combined
),

online_graded as (
    select
        customer_id,
        {{ rank_bucket('online_spend', 4, 'desc') }} as online_quartile
    from combined
    where online_spend > 0
)

select
    scored.customer_id,
    scored.first_purchase_date,
    scored.last_purchase_date,
    scored.frequency,
    scored.recency,
    scored.T,
    scored.monetary_value,
    scored.days_since_last_purchase,
    scored.n_purchase_days,
    scored.n_receipts,
    scored.total_spend,
    scored.r_score,
    scored.f_score,
    scored.m_score,
    'R' || scored.r_score || 'F' || scored.f_score || 'M' || scored.m_score as rfm_cell,
    scored.lpay_spend,
    scored.other_spend,
    scored.lpay_receipts,
    scored.lpay_payments,
    scored.online_spend,
    case online_graded.online_quartile
        when 1 then 'VIP' when 2 then 'G3' when 3 then 'G2' when 4 then 'G1'
    end as online_grade
from scored
left join online_graded using (customer_id)
