"""Segmentation: segment profiles in original units + centroid/scaler parameters (long: one row per model x segment x feature).
Deterministic: the three segmentation models run the same seeded fit."""
from loyalty_analytics import segmentation as sg


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt.ref("int_run_parameters").to_arrow_table().to_pylist()[0]
    rfm = dbt.ref("customer_rfm").to_arrow_table().to_pandas()
    clv = dbt.ref("int_clv_predictions").to_arrow_table().to_pandas()
    customers = dbt.ref("int_customer_attributes").to_arrow_table().to_pandas()  # no rows for CDNOW
    result = sg.run_segmentation(sg.prepare_features(rfm, clv, customers), random_state=settings["random_seed"],
                                 stability_check=False, truth=None)
    return result.profiles
