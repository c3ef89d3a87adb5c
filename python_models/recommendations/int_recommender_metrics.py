"""Every recommender evaluation of this run. The stored models of int_recommender_evaluation_models
(fitted up to calibration_end) judged on what customers bought after it: the per-customer splits
(all_items, new_items, new_items_sparse) and the kind splits (new_to_customer, new_at_affiliate,
replenishment, per customer × affiliate), plus the oracle when the generator's truth matches the
data; the calibration error of the purchase probability per kind (int_recommendation_reliability);
each kind's champion on the reported split (model_name 'champion'); and the inner split's rows
the champions were chosen on (int_recommender_selection_metrics, split 'selection_<kind>')."""

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
    tables = dbt_io.frames(
        selection=dbt.ref("int_recommender_selection_metrics"),
        champions=dbt.ref("int_recommendation_champions"),
        reliability=dbt.ref("int_recommendation_reliability"),
    )
    dates = {"calibration_end": settings["calibration_end"], "observation_end": settings["observation_end"]}
    per_customer = jobs.evaluate_models(**inputs, **dates, truth_dir=paths.truth_dir())
    kinds = jobs.evaluate_kind_splits(
        **inputs, cut_date=dates["calibration_end"], end=dates["observation_end"], truth_dir=paths.truth_dir()
    )
    return jobs.metrics_table(per_customer, kinds, **tables)
