"""One purchase-probability calibrator per (model, kind), fitted on the inner split: the top-N
lists of the models fitted up to selection_end (int_recommender_selection_models) and whether
each product was bought at that affiliate in (selection_end, calibration_end]. Parameter rows;
applied unchanged to the reported split and the published lists."""

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
    return jobs.fit_calibrators(
        **inputs,
        cut_date=settings["selection_end"],
        end=settings["calibration_end"],
        horizon_days=jobs.horizon_days(settings),
        n=settings["recommendations_per_affiliate"],
    )
