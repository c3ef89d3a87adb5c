"""Fit the segmentation once (KMeans per feature set + seed 004's tiers, seeded with
random_seed) and store it: long rows (model_name, component, segment_id, key, value,
segment_name), see loyalty_analytics.segmentation.SegmentationModel.to_params."""

from loyalty_analytics import dbt_io, segmentation


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    features = dbt_io.frames(features=dbt.ref("int_segmentation_features"))["features"]
    return segmentation.SegmentationModel(random_state=settings["random_seed"]).fit(features).to_params()
