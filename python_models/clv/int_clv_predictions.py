"""Per-customer p_alive, expected purchases and CLV, applied from the stored int_clv_params (no refit)."""
from loyalty_analytics import clv, dbt_io


def model(dbt, session):
    dbt.config(materialized="table")
    inputs = dbt_io.frames(rfm=dbt.ref("customer_rfm"), params=dbt.ref("int_clv_params"))
    fit = clv.fit_from_params(inputs["params"])
    return clv.predict(fit, inputs["rfm"], discount_rate=clv.discount_rate_from_params(inputs["params"]))
