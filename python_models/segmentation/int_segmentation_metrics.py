"""Segmentation metric rows (model_name, metric, k, split, value) of the stored
int_segmentation_params and its assignments: silhouette, k, inertia, silhouette per k, stability
(an evaluation refit with random_seed + 1, not stored), ARI against the planted segments when
the truth matches, tier classifier accuracy, weights and shares."""

from loyalty_analytics import dbt_io, segmentation


def model(dbt, session):
    dbt.config(materialized="table")
    inputs = dbt_io.frames(
        features=dbt.ref("int_segmentation_features"),
        segments=dbt.ref("int_customer_segments"),
        params=dbt.ref("int_segmentation_params"),
    )
    stored = segmentation.SegmentationModel.from_params(inputs["params"])
    return segmentation.evaluate_segmentation(inputs["features"], stored, inputs["segments"], truth="auto")
