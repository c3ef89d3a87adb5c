-- Every evaluation of this run in one table (SPEC §4): CLV holdout and p_alive, segmentation
-- quality and stability, recommenders and repurchase timing on the time split, and the preference
-- back-test.
{% set sources = ['int_clv_metrics', 'int_segmentation_metrics'] %}
{% if capability('has_products') %}
    {% do sources.append('int_recommender_metrics') %}
    {% do sources.append('int_timing_metrics') %}
    {% do sources.append('int_plan_backtest_metrics') %}
{% endif %}
with unioned as (
    {% for source in sources %}
        select
            cast(model_name as varchar) as model_name,
            cast(metric as varchar) as metric,
            cast(k as integer) as k,
            cast(split as varchar) as split,
            cast(value as double) as value
        from {{ ref(source) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
    {% if capability('has_products') %}
        union all
        select
            'preference_score_' || affiliate_code as model_name,
            'repurchase_rate' as metric,
            cast(null as integer) as k,
            'threshold_' || cast(threshold as varchar) as split,
            repurchase_rate as value
        from {{ ref('int_preference_backtest') }}
    {% endif %}
)

select
    unioned.*,
    parameters.run_started_at as evaluated_at,
    parameters.dataset
from unioned
cross join {{ ref('int_run_parameters') }} as parameters
