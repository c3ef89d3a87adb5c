"""Per-customer p_alive, expected purchases and CLV: the stored int_clv_params applied (no refit)."""

from loyalty_analytics import clv, dbt_io


def model(dbt, session):
    dbt.config(materialized="table")
    inputs = dbt_io.frames(rfm=dbt.ref("int_customer_summary"), params=dbt.ref("int_clv_params"))
    return clv.CLVModel.from_params(inputs["params"]).predict(inputs["rfm"])
