"""Per customer × item bought on two or more days: the stored timing model fitted up to
observation_end (int_timing_params) applied at observation_end, no refit."""

from loyalty_analytics import dbt_io, timing


def model(dbt, session):
    dbt.config(materialized="table", schema="intermediate")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    inputs = dbt_io.frames(days=dbt.ref("int_timing_purchase_days"), params=dbt.ref("int_timing_params"))
    return timing.apply_params(inputs["days"], inputs["params"], settings, "observation_end")
