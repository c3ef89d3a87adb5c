"""Every recommender and baseline fitted on history up to selection_end (the inner split: truth
in (selection_end, calibration_end]) and stored as versioned artifacts (an identical stored
version is reused); one registry row per stored model. The champions are chosen and the
purchase-probability calibrators fitted on them — never on the reported split."""

from loyalty_analytics import dbt_io
from loyalty_analytics.recommenders import jobs


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    inputs = dbt_io.frames(
        lines=dbt.ref("int_session_lines").project(jobs.LINE_COLUMNS),
        customers=dbt.ref("int_customer_attribute_columns"),
        products=dbt.ref("int_products"),
        preference=dbt.ref("int_preference_selection").project(jobs.PREFERENCE_COLUMNS),
    )
    data, _ = jobs.split_at(settings["selection_end"], settings["calibration_end"], **inputs)
    return jobs.store_models(
        jobs.evaluation_models(settings["random_seed"], settings["recommender_training"]), data, used_for="selection"
    )
