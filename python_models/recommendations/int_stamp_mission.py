"""Seed 000's stamp mission: top-5 major categories by mean predicted preference over the
customer's unbought products, 4 unbought products under each, from the stored preference_nn
of int_recommender_models."""

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
    return jobs.stamp_mission(registry, data)
