{{ config(materialized='table') }}

-- When customers buy (seed 001's weekday and hour charts, seed 002's Fri/Sat peaks):
-- receipts, customers and spend per ISO weekday × hour of day × channel, up to
-- observation_end. hour is null when the dataset records dates only (every timestamp at
-- midnight, e.g. CDNOW), so "no clock time" never reads as "everything at 00:00".
{% set has_lpay = capability('has_payment_flag') %}
with params as (
    select observation_end from {{ ref('int_run_parameters') }}
),

receipts as (
    select *
    from {{ ref('int_receipts') }}
    where purchase_date <= (select params.observation_end from params)
),

clock as (
    select coalesce(bool_or(purchased_at <> cast(purchase_date as timestamp)), false) as has_time_of_day
    from receipts
)

select
    cast(isodow(receipts.purchase_date) as integer) as weekday,
    dayname(receipts.purchase_date) as weekday_name,
    case when clock.has_time_of_day then cast(hour(receipts.purchased_at) as integer) end as hour,
    receipts.channel,
    count(*) as n_receipts,
    count(distinct receipts.customer_id) as n_customers,
    count(distinct receipts.purchase_date) as n_days_with_sales,
    cast(sum(receipts.spend) as double) as spend,
    {% if has_lpay %}
        count(*) filter (where receipts.paid_with_lpay) as lpay_receipts,
        cast(coalesce(sum(receipts.spend) filter (where receipts.paid_with_lpay), 0) as double) as lpay_spend
    {% else %}
        cast(null as bigint) as lpay_receipts,
        cast(null as double) as lpay_spend
    {% endif %}
from receipts
cross join clock
group by all
