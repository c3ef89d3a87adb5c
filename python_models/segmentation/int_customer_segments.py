"""Customer -> KMeans segment (rule-based name) per feature set + seed 004 tier: the stored
int_segmentation_params applied (nearest centroid, tier scores), no refit."""

from loyalty_analytics import dbt_io, segmentation


def model(dbt, session):
    dbt.config(materialized="table")
    inputs = dbt_io.frames(features=dbt.ref("int_segmentation_features"), params=dbt.ref("int_segmentation_params"))
    return segmentation.SegmentationModel.from_params(inputs["params"]).predict(inputs["features"])
