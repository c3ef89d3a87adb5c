"""CLV metric rows (model_name, metric, k, split, value) of the stored int_clv_params: holdout
check vs the naive baseline (an evaluation fit on the calibration period), Gamma-Gamma
independence, p_alive AUC vs the planted truth when a matching truth file exists."""

from loyalty_analytics import clv, dbt_io


def model(dbt, session):
    dbt.config(materialized="table")
    inputs = dbt_io.frames(
        rfm=dbt.ref("int_customer_summary"),
        cal_holdout=dbt.ref("int_rfm_calibration_holdout"),
        params=dbt.ref("int_clv_params"),
    )
    return clv.evaluate_clv(
        inputs["rfm"], clv.CLVModel.from_params(inputs["params"]), inputs["cal_holdout"], truth="auto"
    )
