"""The stored models of int_recommender_evaluation_models (fitted up to calibration_end) judged
on what customers bought after it (HR/nDCG/recall@K, AUC; splits all_items, new_items,
new_items_sparse), plus the oracle when the generator's truth matches the data."""

from loyalty_analytics import dbt_io, paths
from loyalty_analytics.recommenders import jobs


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    inputs = dbt_io.frames(
        lines=dbt.ref("int_session_lines").project(jobs.LINE_COLUMNS),
        customers=dbt.ref("int_customer_attribute_columns"),
        products=dbt.ref("int_products"),
        registry=dbt.ref("int_recommender_evaluation_models"),
    )
    return jobs.evaluate_models(
        **inputs,
        calibration_end=settings["calibration_end"],
        observation_end=settings["observation_end"],
        truth_dir=paths.truth_dir(),
    )
