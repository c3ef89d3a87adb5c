"""Fit BG/NBD and/or Pareto/NBD + Gamma-Gamma on customer_rfm (daily periods).
Returns (model, parameter, value); see loyalty_analytics.clv.params_table."""
from loyalty_analytics import clv, dbt_io


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    rfm = dbt_io.frames(rfm=dbt.ref("customer_rfm"))["rfm"]
    fit = clv.fit_clv(rfm, model=settings["clv_model"], penalizer=settings["clv_penalizer"])
    return clv.params_table(fit, discount_rate=settings["clv_monthly_discount_rate"])
