"""The published recommenders (both neural models) fitted on all history up to
observation_end and stored as versioned artifacts (an identical stored version is reused);
one registry row per stored model. int_recommendations and int_stamp_mission apply them."""

from loyalty_analytics import dbt_io
from loyalty_analytics.recommenders import jobs


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    data = jobs.history(
        settings["observation_end"],
        lines=dbt.ref("int_session_lines").project(jobs.LINE_COLUMNS),
        customers=dbt.ref("int_customer_attribute_columns"),
        products=dbt.ref("int_products"),
        preference=dbt.ref("int_preference_scores").project(jobs.PREFERENCE_COLUMNS),
    )
    return jobs.store_models(
        jobs.neural_models(settings["random_seed"], settings["recommender_training"]), data, used_for="published"
    )
