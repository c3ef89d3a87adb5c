"""Top-N not-yet-bought products per customer × affiliate from both neural models, fitted
on all history up to observation_end."""
from loyalty_analytics.recommenders import jobs


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt.ref("int_run_parameters").to_arrow_table().to_pylist()[0]
    data = jobs.full_history(
        lines=dbt.ref("int_session_lines").to_arrow_table().to_pandas(),
        customers=dbt.ref("int_customer_attributes").to_arrow_table().to_pandas(),
        products=dbt.ref("stg_lpoint__products").to_arrow_table().to_pandas(),
        preference=dbt.ref("customer_product_preference").to_arrow_table().to_pandas(),
        observation_end=settings["observation_end"],
    )
    return jobs.recommend(data, n=settings["recommendations_per_affiliate"], seed=settings["random_seed"])
