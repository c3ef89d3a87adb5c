"""The stored models of int_recommender_selection_models (fitted up to selection_end) on the
kind splits of the inner split: what customers bought at each affiliate in (selection_end,
calibration_end]; split = 'selection_' + kind. The champions are chosen from these rows."""

from loyalty_analytics import dbt_io
from loyalty_analytics.recommenders import jobs


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    inputs = dbt_io.frames(
        lines=dbt.ref("int_session_lines").project(jobs.LINE_COLUMNS),
        customers=dbt.ref("int_customer_attribute_columns"),
        products=dbt.ref("int_products"),
        registry=dbt.ref("int_recommender_selection_models"),
    )
    return jobs.evaluate_kind_splits(
        **inputs, cut_date=settings["selection_end"], end=settings["calibration_end"], split_prefix="selection_"
    )
