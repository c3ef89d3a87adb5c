"""Top-N per customer × affiliate × kind from the stored published models (int_recommender_models:
the champions and preference_nn, fitted on all history up to observation_end), with the calibrated
purchase_probability (int_recommendation_calibrators) and whether the model is the kind's
champion (int_recommendation_champions)."""

from loyalty_analytics import dbt_io
from loyalty_analytics.recommenders import jobs


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    tables = dbt_io.frames(
        registry=dbt.ref("int_recommender_models"),
        calibrators=dbt.ref("int_recommendation_calibrators"),
        champions=dbt.ref("int_recommendation_champions"),
    )
    data = jobs.history(
        settings["observation_end"],
        lines=dbt.ref("int_session_lines").project(jobs.LINE_COLUMNS),
        customers=dbt.ref("int_customer_attribute_columns"),
        products=dbt.ref("int_products"),
    )
    return jobs.recommend(
        **tables, data=data, n=settings["recommendations_per_affiliate"], horizon_days=jobs.horizon_days(settings)
    )
