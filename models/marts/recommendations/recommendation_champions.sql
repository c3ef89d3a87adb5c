-- The champion of each recommendation kind, chosen by nDCG@10 on the inner split (models
-- fitted up to selection_end, truth in (selection_end, calibration_end]), and how it did on
-- the reported split (models fitted up to calibration_end, truth after it) beside the model
-- that did best there.
with reported as (
    select
        split as recommendation_kind,
        model_name,
        value as ndcg_10,
        n_customers as n_units
    from {{ ref('int_recommender_metrics') }}
    where
        metric = 'ndcg' and k = 10
        and split in ('new_to_customer', 'new_at_affiliate', 'replenishment')
        and model_name not in ('champion', 'oracle')
),

best_reported as (
    select
        recommendation_kind,
        model_name,
        ndcg_10
    from reported
    qualify row_number() over (partition by recommendation_kind order by ndcg_10 desc, model_name asc) = 1
)

select
    champions.recommendation_kind,
    champions.model_name,
    cast(champions.selection_ndcg_10 as double) as selection_ndcg_10,
    cast(champions.selection_n_units as bigint) as selection_n_units,
    cast(reported.ndcg_10 as double) as reported_ndcg_10,
    cast(reported.n_units as bigint) as reported_n_units,
    best_reported.model_name as reported_best_model_name,
    cast(best_reported.ndcg_10 as double) as reported_best_ndcg_10,
    parameters.selection_end,
    parameters.calibration_end,
    parameters.observation_end
from {{ ref('int_recommendation_champions') }} as champions
left join reported using (recommendation_kind, model_name)
left join best_reported using (recommendation_kind)
cross join {{ ref('int_run_parameters') }} as parameters
