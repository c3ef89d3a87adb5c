{{ config(enabled=capability('has_products')) }}

-- The plan back-test per action and arm, and over all actions (action 'all'): the plan built
-- with history up to calibration_end, scored on purchases after it (int_plan_backtest;
-- docs/actions.md, "Back-test").
with pairs as (
    select * from {{ ref('int_plan_backtest') }}
),

by_action as (
    select
        action,
        arm,
        {{ plan_backtest_aggregates() }}
    from pairs
    group by action, arm
    union all
    select
        'all' as action,
        arm,
        {{ plan_backtest_aggregates() }}
    from pairs
    group by arm
)

select
    by_action.action,
    by_action.arm,
    cast(by_action.n_customers as bigint) as n_customers,
    cast(by_action.n_pairs as bigint) as n_pairs,
    cast(by_action.n_bought_in_window as bigint) as n_bought_in_window,
    cast(by_action.window_hit_rate as double) as window_hit_rate,
    cast(by_action.customer_window_hit_rate as double) as customer_window_hit_rate,
    cast(by_action.first_days_hit_rate as double) as first_days_hit_rate,
    cast(by_action.after_cut_hit_rate as double) as after_cut_hit_rate,
    cast(by_action.kind_eligible_share as double) as kind_eligible_share,
    cast(by_action.n_comparable_pairs as bigint) as n_comparable_pairs,
    cast(by_action.comparable_window_hit_rate as double) as comparable_window_hit_rate,
    parameters.calibration_end as plan_date,
    parameters.observation_end as truth_end_date,
    parameters.run_started_at as generated_at
from by_action
cross join {{ ref('int_run_parameters') }} as parameters
