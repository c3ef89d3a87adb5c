"""Timing metric rows (model_name, metric, k, split, value) on the reported split: the stored pooled
model's predictions at calibration_end and the two baselines fitted on the same history, against
the purchases up to observation_end; on generated data also against the planted cycles."""

from loyalty_analytics import dbt_io, paths, timing


def model(dbt, session):
    dbt.config(materialized="table", schema="intermediate")
    settings = dbt_io.settings(dbt.ref("int_run_parameters"))
    inputs = dbt_io.frames(
        days=dbt.ref("int_timing_purchase_days"),
        predictions=dbt.ref("int_repurchase_timing_calibration"),
        params=dbt.ref("int_timing_params"),
    )
    return timing.evaluate(inputs["days"], inputs["predictions"], inputs["params"], settings, paths.truth_dir())
