{{ config(enabled=capability('has_products')) }}

-- The plan back-test over all actions as model_metrics rows: model_name nba_plan,
-- nba_random_same_category or nba_popularity (the arm), split plan_backtest, k = 3 (products
-- per customer); metrics as in plan_backtest (macro plan_backtest_aggregates).
with overall as (
    select
        arm,
        {{ plan_backtest_aggregates() }}
    from {{ ref('int_plan_backtest') }}
    group by arm
),

long as (
    unpivot (
        select
            arm,
            cast(window_hit_rate as double) as window_hit_rate,
            cast(customer_window_hit_rate as double) as customer_window_hit_rate,
            cast(first_days_hit_rate as double) as first_days_hit_rate,
            cast(after_cut_hit_rate as double) as after_cut_hit_rate,
            cast(kind_eligible_share as double) as kind_eligible_share,
            cast(comparable_window_hit_rate as double) as comparable_window_hit_rate,
            cast(n_customers as double) as n_customers,
            cast(n_pairs as double) as n_pairs,
            cast(n_comparable_pairs as double) as n_comparable_pairs
        from overall
    )
    on
    window_hit_rate, customer_window_hit_rate, first_days_hit_rate, after_cut_hit_rate, kind_eligible_share,
    comparable_window_hit_rate, n_customers, n_pairs, n_comparable_pairs
    into name metric value metric_value
)

select
    'nba_' || arm as model_name,
    metric,
    3 as k,
    'plan_backtest' as split,
    metric_value as value
from long
