"""Top-N not-yet-bought products per customer × affiliate from both neural models, fitted
on all history up to observation_end."""
from loyalty_analytics import dbt_io
from loyalty_analytics.recommenders import jobs


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    data = jobs.full_history(settings["observation_end"], lines=dbt.ref("int_session_lines").project(jobs.LINE_COLUMNS),
                             customers=dbt.ref("int_customer_attributes"), products=dbt.ref("stg_lpoint__products"),
                             preference=dbt.ref("customer_product_preference").project(jobs.PREFERENCE_COLUMNS))
    return jobs.recommend(data, n=settings["recommendations_per_affiliate"], seed=settings["random_seed"])
