-- Every model this run stored or applied, one row per model: the recommenders stored as
-- versioned artifacts (python_models/recommendations: int_recommender_selection_models fitted to
-- selection_end, int_recommender_evaluation_models fitted to calibration_end,
-- int_recommender_models fitted to observation_end), the CLV models whose
-- parameters are warehouse rows (int_clv_params) and the segmentation models
-- (int_segmentation_metrics).
with parameters as (
    select
        cast(observation_end as date) as observation_end,
        cast(random_seed as integer) as random_seed,
        run_started_at
    from {{ ref('int_run_parameters') }}
),

{% if capability('has_products') %}
    recommenders as (
        {% set registries = ['int_recommender_selection_models', 'int_recommender_evaluation_models',
                             'int_recommender_models'] %}
        {% for registry in registries %}
            select
                model_name,
                'recommender' as model_kind,
                version,
                cast(cut_date as date) as cut_date,
                cast(random_state as integer) as random_state,
                data_fingerprint,
                cast(trained_at as timestamp) as trained_at,
                cast(fit_seconds as double) as fit_seconds,
                artifact_path,
                artifact_path || '/metadata.json' as params_location,
                'marts.model_metrics where model_name = ''' || model_name || '''' as metrics_location,
                used_for
            from {{ ref(registry) }}
            {% if not loop.last %}union all{% endif %}
        {% endfor %}
    ),
{% endif %}

-- CLV: the version is a hash of the stored parameter values (fit_seconds left out: it varies)
clv_params as (
    select
        model,
        left(md5(
            string_agg(parameter || '=' || coalesce(cast(value as varchar), 'null'), ';' order by parameter)
            filter (where parameter <> 'fit_seconds')
        ), 10) as params_hash,
        max(value) filter (where parameter = 'fit_seconds') as fit_seconds
    from {{ ref('int_clv_params') }}
    group by model
),

clv_metric_models as (
    select distinct model_name from {{ ref('int_clv_metrics') }}
),

clv as (
    select
        clv_params.model as model_name,
        'clv' as model_kind,
        'params:' || clv_params.params_hash as version,
        parameters.observation_end as cut_date,
        cast(null as integer) as random_state,
        cast(null as varchar) as data_fingerprint,
        parameters.run_started_at as trained_at,
        clv_params.fit_seconds,
        cast(null as varchar) as artifact_path,
        'marts.clv_model_params where model = ''' || clv_params.model || '''' as params_location,
        case
            when clv_metric_models.model_name is not null
                then 'marts.model_metrics where model_name = ''' || clv_metric_models.model_name || ''''
        end as metrics_location,
        'published' as used_for
    from clv_params
    cross join parameters
    left join clv_metric_models on clv_metric_models.model_name = 'clv_' || clv_params.model
),

segmentation as (
    select
        metrics.model_name,
        'segmentation' as model_kind,
        cast(null as varchar) as version,
        parameters.observation_end as cut_date,
        parameters.random_seed as random_state,
        cast(null as varchar) as data_fingerprint,
        parameters.run_started_at as trained_at,
        max(metrics.value) filter (where metrics.metric = 'fit_seconds') as fit_seconds,
        cast(null as varchar) as artifact_path,
        'marts.segment_centroids where segmentation_model = ''' || metrics.model_name || '''' as params_location,
        'marts.model_metrics where model_name = ''' || metrics.model_name || '''' as metrics_location,
        'published' as used_for
    from {{ ref('int_segmentation_metrics') }} as metrics
    cross join parameters
    group by all
),

unioned as (
    {% if capability('has_products') %}
        select * from recommenders
        union all
    {% endif %}
    select * from clv
    union all
    select * from segmentation
)

select
    cast(model_name as varchar) as model_name,
    cast(model_kind as varchar) as model_kind,
    cast(version as varchar) as version,
    cast(cut_date as date) as cut_date,
    cast(random_state as integer) as random_state,
    cast(data_fingerprint as varchar) as data_fingerprint,
    cast(trained_at as timestamp) as trained_at,
    cast(fit_seconds as double) as fit_seconds,
    cast(artifact_path as varchar) as artifact_path,
    cast(params_location as varchar) as params_location,
    cast(metrics_location as varchar) as metrics_location,
    cast(used_for as varchar) as used_for
from unioned
