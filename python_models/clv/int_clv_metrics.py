"""CLV metric rows (model_name, metric, k, split, value): holdout check vs naive baseline,
Gamma-Gamma independence, p_alive AUC vs planted truth when a matching truth file exists."""
from loyalty_analytics import clv


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt.ref("int_run_parameters").to_arrow_table().to_pylist()[0]
    rfm = dbt.ref("customer_rfm").to_arrow_table().to_pandas()
    cal_holdout = dbt.ref("int_rfm_calibration_holdout").to_arrow_table().to_pandas()
    params = dbt.ref("int_clv_params").to_arrow_table().to_pandas()
    return clv.evaluate_clv(rfm, cal_holdout, model=settings["clv_model"], penalizer=settings["clv_penalizer"],
                            fit=clv.fit_from_params(params), truth="auto")
