"""Reliability of the purchase probability on the reported split: the top-N lists per kind of
the models fitted up to calibration_end (int_recommender_evaluation_models), calibrated with
int_recommendation_calibrators, against what was bought at that affiliate in (calibration_end,
observation_end]; 10 probability bins per (model, kind), also for the raw score min–max scaled."""

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
        calibrators=dbt.ref("int_recommendation_calibrators"),
    )
    return jobs.reliability(
        **inputs,
        cut_date=settings["calibration_end"],
        end=settings["observation_end"],
        horizon_days=jobs.horizon_days(settings),
        n=settings["recommendations_per_affiliate"],
    )
