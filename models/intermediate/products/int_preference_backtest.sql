-- Seed 000's reliability table (published as preference_score_backtest, read by model_metrics):
-- pairs scored with history up to calibration_end; for each
-- threshold 0.0, 0.5 … 4.5 the pairs scoring at least that much and the share of them the
-- customer bought again (same affiliate) after calibration_end, up to observation_end.
with scored as (
    select
        affiliate_code,
        customer_id,
        product_code,
        preference_score
    from {{ ref('int_preference_calibration') }}
),

bought_after as (
    select distinct
        affiliate_code,
        customer_id,
        product_code
    from {{ ref('int_purchase_lines') }}
    where
        purchase_date > {{ calibration_end() }}
        and purchase_date <= {{ observation_end() }}
),

outcomes as (
    select
        scored.*,
        bought_after.product_code is not null as repurchased
    from scored
    left join bought_after using (affiliate_code, customer_id, product_code)
),

thresholds as (
    select cast(steps.step * 0.5 as double) as threshold
    from range(0, 10) as steps (step)
)

select
    outcomes.affiliate_code,
    thresholds.threshold,
    count(*) as n_pairs,
    count(*) filter (where outcomes.repurchased) as n_repurchased,
    count(*) filter (where outcomes.repurchased) / count(*) as repurchase_rate
from outcomes
inner join thresholds on outcomes.preference_score >= thresholds.threshold
group by outcomes.affiliate_code, thresholds.threshold
