"""The champion lists as they would have been published at calibration_end: each kind's top-N
from its champion fitted up to calibration_end (int_recommender_evaluation_models), with the
calibrated purchase_probability — the input of the plan back-test."""

from loyalty_analytics import dbt_io
from loyalty_analytics.recommenders import jobs


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    inputs = dbt_io.frames(
        lines=dbt.ref("int_session_lines").project(jobs.LINE_COLUMNS),
        customers=dbt.ref("int_customer_attribute_columns"),
        products=dbt.ref("int_products"),
        registry=dbt.ref("int_recommender_evaluation_models"),
        champions=dbt.ref("int_recommendation_champions"),
        calibrators=dbt.ref("int_recommendation_calibrators"),
    )
    data, _ = jobs.split_at(
        settings["calibration_end"],
        settings["observation_end"],
        inputs.pop("lines"),
        inputs.pop("customers"),
        inputs.pop("products"),
        preference=None,
    )
    return jobs.champion_lists(
        **inputs, data=data, horizon_days=jobs.horizon_days(settings), n=settings["recommendations_per_affiliate"]
    )
