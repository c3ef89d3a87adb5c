-- lifetimes.utils.calibration_and_holdout_data(freq='D') in SQL: the RFM summary as of
-- calibration_end, and what each customer did after it up to observation_end.
-- Only customers whose first purchase is on or before calibration_end.
with params as (
    select
        calibration_end,
        observation_end,
        {{ days_between('calibration_end', 'observation_end') }} as holdout_days
    from {{ ref('int_run_parameters') }}
),

days as (
    select
        daily.customer_id,
        daily.purchase_date,
        daily.spend,
        min(daily.purchase_date) over (partition by daily.customer_id) as first_purchase_date
    from {{ ref('int_customer_daily_spend') }} as daily
    where daily.purchase_date <= (select params.observation_end from params)
),

calibration as (
    select
        customer_id,
        min(first_purchase_date) as first_purchase_date,
        count(*) as n_purchase_days,
        max(purchase_date) as last_purchase_date,
        sum(spend) filter (where purchase_date > first_purchase_date) as repeat_spend
    from days
    where purchase_date <= (select params.calibration_end from params)
    group by customer_id
),

holdout as (
    select
        customer_id,
        count(*) as n_purchase_days,
        avg(spend) as mean_spend
    from days
    where purchase_date > (select params.calibration_end from params)
    group by customer_id
)

select
    calibration.customer_id,
    cast(calibration.n_purchase_days - 1 as double) as frequency_cal,
    cast(
        {{ days_between('calibration.first_purchase_date', 'calibration.last_purchase_date') }} as double
    ) as recency_cal,
    cast(
        {{ days_between('calibration.first_purchase_date', '(select params.calibration_end from params)') }} as double
    ) as T_cal,
    coalesce(calibration.repeat_spend / nullif(calibration.n_purchase_days - 1, 0), 0) as monetary_value_cal,
    cast(coalesce(holdout.n_purchase_days, 0) as double) as frequency_holdout,
    coalesce(holdout.mean_spend, 0) as monetary_value_holdout,
    cast((select params.holdout_days from params) as double) as duration_holdout
from calibration
left join holdout using (customer_id)
