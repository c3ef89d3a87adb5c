"""Seed 000's stamp mission: top-5 major categories by mean predicted preference over the
customer's unbought products, 4 unbought products under each (preference_nn)."""
from loyalty_analytics import dbt_io
from loyalty_analytics.recommenders import jobs


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    dbt.ref("int_recommendations")  # runs after it, so the fitted model is reused in-process
    data = jobs.full_history(settings["observation_end"], lines=dbt.ref("int_session_lines").project(jobs.LINE_COLUMNS),
                             customers=dbt.ref("int_customer_attributes"), products=dbt.ref("stg_lpoint__products"),
                             preference=dbt.ref("customer_product_preference").project(jobs.PREFERENCE_COLUMNS))
    return jobs.stamp_mission(data, seed=settings["random_seed"])
