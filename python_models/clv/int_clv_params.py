"""Fit the CLV model (BG/NBD and/or Pareto/NBD + Gamma-Gamma) on the RFM summary and store it:
(model, parameter, value) rows, see loyalty_analytics.clv.params."""

from loyalty_analytics import clv, dbt_io


def model(dbt, session):
    dbt.config(materialized="table")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    rfm = dbt_io.frames(rfm=dbt.ref("int_customer_summary"))["rfm"]
    clv_model = clv.CLVModel(
        transaction_model=settings["clv_model"],
        penalizer=settings["clv_penalizer"],
        discount_rate=settings["clv_monthly_discount_rate"],
    )
    return clv_model.fit(rfm).to_params()
