"""Segmentation metrics (model_name, metric, k, split, value): silhouette per k, stability
across seeds, ARI against the generator's planted segments when its truth matches."""
from loyalty_analytics import dbt_io, segmentation


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    inputs = dbt_io.frames(rfm=dbt.ref("customer_rfm"), clv=dbt.ref("int_clv_predictions"),
                           customers=dbt.ref("int_customer_attributes"))
    return segmentation.segment_customers(**inputs, random_state=settings["random_seed"],
                                          stability_check=True, truth="auto").metrics
