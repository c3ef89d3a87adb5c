"""Fit the pooled repurchase-timing model and store it: per item level, the candidate chosen on the
inner split, fitted on history up to calibration_end and up to observation_end
(loyalty_analytics.timing.fit_params; docs/timing.md)."""

from loyalty_analytics import dbt_io, timing


def model(dbt, session):
    dbt.config(materialized="table", schema="intermediate")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    days = dbt_io.frames(days=dbt.ref("int_timing_purchase_days"))["days"]
    return timing.fit_params(days, settings)
