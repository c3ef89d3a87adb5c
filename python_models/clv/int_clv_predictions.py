"""Per-customer p_alive, expected purchases and CLV, applied from the stored int_clv_params (no refit)."""
from loyalty_analytics import clv


def model(dbt, session):
    dbt.config(materialized="table")
    rfm = dbt.ref("customer_rfm").to_arrow_table().to_pandas()
    params = dbt.ref("int_clv_params").to_arrow_table().to_pandas()
    fit = clv.fit_from_params(params)
    return clv.predict(fit, rfm, discount_rate=clv.discount_rate_from_params(params))
