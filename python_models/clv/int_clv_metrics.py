"""CLV metric rows (model_name, metric, k, split, value): holdout check vs naive baseline,
Gamma-Gamma independence, p_alive AUC vs planted truth when a matching truth file exists."""
from loyalty_analytics import clv, dbt_io


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    inputs = dbt_io.frames(rfm=dbt.ref("customer_rfm"), cal_holdout=dbt.ref("int_rfm_calibration_holdout"),
                           params=dbt.ref("int_clv_params"))
    return clv.evaluate_clv(inputs["rfm"], inputs["cal_holdout"], model=settings["clv_model"],
                            penalizer=settings["clv_penalizer"], fit=clv.fit_from_params(inputs["params"]),
                            truth="auto")
