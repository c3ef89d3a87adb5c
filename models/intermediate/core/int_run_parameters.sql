-- One row: the anchor dates of this build. observation_end is the var when set, otherwise
-- the last transaction date; every model reads it from here (macro observation_end()).
{% set observation_end_sql -%}
    {% if var('observation_end', none) %}
        date '{{ checked_date('observation_end', var('observation_end')) }}'
    {% else %}
        (select max(purchase_date) from {{ ref('int_transactions') }})
    {% endif %}
{%- endset %}
select
    {{ sql_string(dataset_name()) }} as dataset,
    {{ period_start() }} as period_start,
    {{ period_end() }} as period_end,
    {{ calibration_end() }} as calibration_end,
    {{ observation_end_sql }} as observation_end,
    -- the recommenders' inner split: a window as long as the reported one (observation_end -
    -- calibration_end) before calibration_end, never before period_start + 28 days, always
    -- before calibration_end
    least(
        greatest(
            {{ calibration_end() }} - cast({{ days_between(calibration_end(), observation_end_sql) }} as integer),
            {{ period_start() }} + 28
        ),
        {{ calibration_end() }} - 1
    ) as selection_end,
    -- model settings the dbt Python models read from here (vars, with these defaults)
    {{ sql_string(clv_model_setting()) }} as clv_model,
    cast({{ checked_number('clv_penalizer', 0.0) }} as double) as clv_penalizer,
    cast({{ checked_number('clv_monthly_discount_rate', 0.01) }} as double) as clv_monthly_discount_rate,
    cast({{ checked_number('random_seed', 42) }} as integer) as random_seed,
    cast({{ checked_number('recommendations_per_affiliate', 30) }} as integer) as recommendations_per_affiliate,
    {{ sql_string(checked_choice('recommender_training', ['full', 'quick'], 'full')) }} as recommender_training,
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as timestamp) as run_started_at,
    '{{ invocation_id }}' as invocation_id
