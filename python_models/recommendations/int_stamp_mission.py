"""Seed 000's stamp mission: top-5 major categories by mean predicted preference over the
customer's unbought products, 4 unbought products under each (preference_nn)."""
from loyalty_analytics.recommenders import jobs


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt.ref("int_run_parameters").to_arrow_table().to_pylist()[0]
    dbt.ref("int_recommendations")  # runs after it, so the fitted model is reused in-process
    data = jobs.full_history(
        lines=dbt.ref("int_session_lines").to_arrow_table().to_pandas(),
        customers=dbt.ref("int_customer_attributes").to_arrow_table().to_pandas(),
        products=dbt.ref("stg_lpoint__products").to_arrow_table().to_pandas(),
        preference=dbt.ref("customer_product_preference").to_arrow_table().to_pandas(),
        observation_end=settings["observation_end"],
    )
    return jobs.stamp_mission(data, seed=settings["random_seed"])
