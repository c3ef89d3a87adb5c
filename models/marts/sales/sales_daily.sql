{{ config(materialized='table') }}

-- Seed 001's dashboard over time: receipts, customers, spend and L.Pay use per day ×
-- affiliate × channel, up to observation_end. From int_receipts, so a receipt counts once.
-- L.Pay columns are null for datasets without a payment flag (var has_payment_flag; CDNOW,
-- Online Retail, Complete Journey): "no L.Pay" is not "zero use".
{% set has_lpay = capability('has_payment_flag') %}
with params as (
    select observation_end from {{ ref('int_run_parameters') }}
),

receipts as (
    select *
    from {{ ref('int_receipts') }}
    where purchase_date <= (select params.observation_end from params)
)

select
    receipts.purchase_date,
    receipts.affiliate_code,
    affiliates.affiliate_name,
    affiliates.affiliate_kind,
    receipts.channel,
    count(*) as n_receipts,
    count(distinct receipts.customer_id) as n_customers,
    cast(sum(receipts.n_lines) as bigint) as n_lines,
    cast(sum(receipts.spend) as double) as spend,
    {% if has_lpay %}
        count(*) filter (where receipts.paid_with_lpay) as lpay_receipts,
        cast(coalesce(sum(receipts.spend) filter (where receipts.paid_with_lpay), 0) as double) as lpay_spend
    {% else %}
        cast(null as bigint) as lpay_receipts,
        cast(null as double) as lpay_spend
    {% endif %}
from receipts
left join {{ ref('int_business_units') }} as affiliates using (affiliate_code)
group by all
