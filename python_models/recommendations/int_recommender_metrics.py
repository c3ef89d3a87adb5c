"""Every recommender and baseline fitted on history up to calibration_end and judged on
what customers bought after it (HR/nDCG/recall@K, AUC; splits all_items, new_items,
new_items_sparse), plus the oracle when the generator's truth matches the data."""
from loyalty_analytics import paths
from loyalty_analytics.recommenders import jobs


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt.ref("int_run_parameters").to_arrow_table().to_pylist()[0]
    return jobs.evaluate_models(
        lines=dbt.ref("int_session_lines").to_arrow_table().to_pandas(),
        customers=dbt.ref("int_customer_attributes").to_arrow_table().to_pandas(),
        products=dbt.ref("stg_lpoint__products").to_arrow_table().to_pandas(),
        preference_at_cut=dbt.ref("int_preference_calibration").to_arrow_table().to_pandas(),
        calibration_end=settings["calibration_end"],
        observation_end=settings["observation_end"],
        seed=settings["random_seed"],
        truth_dir=paths.truth_dir(),
    )
