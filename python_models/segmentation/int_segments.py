"""Segmentation: customer -> KMeans segment (rule-based name) + seed 004 tier.
Deterministic: the three segmentation models run the same seeded fit."""
from loyalty_analytics import dbt_io, segmentation


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    inputs = dbt_io.frames(rfm=dbt.ref("customer_rfm"), clv=dbt.ref("int_clv_predictions"),
                           customers=dbt.ref("int_customer_attributes"))  # no rows for CDNOW
    return segmentation.segment_customers(**inputs, random_state=settings["random_seed"]).segments
