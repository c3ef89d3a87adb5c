"""The same columns as int_repurchase_timing from the stored model fitted up to calibration_end,
applied at calibration_end (no purchase after it is seen): the input of the evaluation and of the
plan back-test."""

from loyalty_analytics import dbt_io, timing


def model(dbt, session):
    dbt.config(materialized="table", schema="intermediate")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    inputs = dbt_io.frames(days=dbt.ref("int_timing_purchase_days"), params=dbt.ref("int_timing_params"))
    return timing.apply_params(inputs["days"], inputs["params"], settings, "calibration_end")
