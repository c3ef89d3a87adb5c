"""P(alive) and CLV as of calibration_end, for the plan back-test (int_nba_customer_states):
the CLV model refitted, with this run's settings, on the calibration-period RFM summary
(int_rfm_calibration_holdout), so the plan built at the cut uses no purchase after it."""

from loyalty_analytics import clv, dbt_io
from loyalty_analytics.clv.evaluation import calibration_summary
from loyalty_analytics.clv.summary import by_customer


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    inputs = dbt_io.frames(cal_holdout=dbt.ref("int_rfm_calibration_holdout"))
    cal_holdout = by_customer(inputs["cal_holdout"])
    summary = calibration_summary(cal_holdout)
    summary.insert(0, "customer_id", cal_holdout["customer_id"].to_numpy())
    fitted = clv.CLVModel(
        transaction_model=settings["clv_model"],
        penalizer=settings["clv_penalizer"],
        discount_rate=settings["clv_monthly_discount_rate"],
    ).fit(summary)
    return fitted.predict(summary)[["customer_id", "transaction_model", "p_alive", "clv_3m", "clv_12m"]]
