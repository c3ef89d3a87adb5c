"""The published recommenders — the champion of every kind (int_recommendation_champions) and
preference_nn (the stamp mission reads it) — fitted on all history up to observation_end and
stored as versioned artifacts (an identical stored version is reused); one registry row per
stored model. int_recommendations and int_stamp_mission apply them."""

from loyalty_analytics import dbt_io
from loyalty_analytics.recommenders import jobs


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    champions = dbt_io.frames(champions=dbt.ref("int_recommendation_champions"))["champions"]
    data = jobs.history(
        settings["observation_end"],
        lines=dbt.ref("int_session_lines").project(jobs.LINE_COLUMNS),
        customers=dbt.ref("int_customer_attribute_columns"),
        products=dbt.ref("int_products"),
        preference=dbt.ref("int_preference_scores").project(jobs.PREFERENCE_COLUMNS),
    )
    models = jobs.published_models(champions, settings["random_seed"], settings["recommender_training"])
    return jobs.store_models(models, data, used_for="published")
