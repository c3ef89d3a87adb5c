"""Segmentation features, one row per customer (customer order): the RFM summary + CLV
predictions + demographics (is_female, age_band); see loyalty_analytics.segmentation.features."""

from loyalty_analytics import dbt_io, segmentation


def model(dbt, session):
    dbt.config(materialized="table")
    inputs = dbt_io.frames(
        rfm=dbt.ref("int_customer_summary"),
        clv=dbt.ref("int_clv_predictions"),
        customers=dbt.ref("int_customer_attribute_columns"),
    )  # customer_id + one column per attribute (none for CDNOW, Online Retail)
    return segmentation.prepare_features(**inputs)
