-- First-purchase-month cohorts (seed 001) × months since the first purchase, every month
-- up to observation_end (months without activity appear with zero).
with params as (
    select observation_end from {{ ref('int_run_parameters') }}
),

monthly as (
    select
        customer_id,
        date_trunc('month', purchase_date) as activity_month,
        sum(spend) as spend
    from {{ ref('int_transactions') }}
    where purchase_date <= (select params.observation_end from params)
    group by customer_id, activity_month
),

cohort_of as (
    select
        customer_id,
        min(activity_month) as cohort_month
    from monthly
    group by customer_id
),

cohorts as (
    select
        cohort_month,
        count(*) as cohort_size
    from cohort_of
    group by cohort_month
),

grid as (
    select
        cohorts.cohort_month,
        cohorts.cohort_size,
        cast(offsets.months_since_first as integer) as months_since_first
    from cohorts
    cross join
        range(
            0,
            1 + date_diff(
                'month',
                (select min(first_cohort.cohort_month) from cohorts as first_cohort),
                (select params.observation_end from params)
            )
        ) as offsets (months_since_first)
    where
        cohorts.cohort_month + to_months(cast(offsets.months_since_first as integer))
        <= date_trunc('month', (select params.observation_end from params))
),

activity as (
    select
        cohort_of.cohort_month,
        date_diff('month', cohort_of.cohort_month, monthly.activity_month) as months_since_first,
        count(*) as active_customers,
        sum(monthly.spend) as spend
    from monthly
    inner join cohort_of using (customer_id)
    group by all
)

select
    cast(grid.cohort_month as date) as cohort_month,
    grid.months_since_first,
    grid.cohort_size,
    coalesce(activity.active_customers, 0) as active_customers,
    coalesce(activity.active_customers, 0) / grid.cohort_size as retention_rate,
    -- money is summed as DECIMAL (exact in any order) and published as DOUBLE
    cast(coalesce(activity.spend, 0) as double) as spend,
    cast(sum(coalesce(activity.spend, 0)) over (
        partition by grid.cohort_month order by grid.months_since_first
    ) / grid.cohort_size as double) as cumulative_spend_per_customer
from grid
left join activity using (cohort_month, months_since_first)
