-- The fitted segmentation models' parameters, long: per model × segment × feature the
-- stored centroid (scaled and original units), the scaler and the members' mean and median
-- (python_models/segmentation/int_segment_profiles).
select
    model_name as segmentation_model,
    segment_id,
    segment_name,
    feature,
    is_cluster_feature,
    log1p as log_transformed,
    centroid_original,
    centroid_scaled,
    scaler_mean,
    scaler_scale,
    mean as member_mean,
    median as member_median
from {{ ref('int_segment_profiles') }}
