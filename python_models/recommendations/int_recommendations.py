"""Top-N not-yet-bought products per customer × affiliate from the stored published models
(int_recommender_models: both neural models, fitted on all history up to observation_end)."""

from loyalty_analytics import dbt_io
from loyalty_analytics.recommenders import jobs


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    registry = dbt_io.frames(registry=dbt.ref("int_recommender_models"))["registry"]
    data = jobs.history(
        settings["observation_end"],
        lines=dbt.ref("int_session_lines").project(jobs.LINE_COLUMNS),
        customers=dbt.ref("int_customer_attribute_columns"),
        products=dbt.ref("int_products"),
    )
    return jobs.recommend(registry, data, n=settings["recommendations_per_affiliate"])
