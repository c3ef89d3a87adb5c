"""Segment profiles, long (model × segment × feature): members' mean and median from the
assignments, stored centroid and scaler from int_segmentation_params (no refit)."""

from loyalty_analytics import dbt_io, segmentation


def model(dbt, session):
    dbt.config(materialized="table")
    inputs = dbt_io.frames(
        features=dbt.ref("int_segmentation_features"),
        segments=dbt.ref("int_customer_segments"),
        params=dbt.ref("int_segmentation_params"),
    )
    stored = segmentation.SegmentationModel.from_params(inputs["params"])
    return segmentation.segment_profiles(inputs["features"], inputs["segments"], stored)
