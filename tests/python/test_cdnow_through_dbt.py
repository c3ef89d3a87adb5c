"""SPEC §3: our SQL summary + Python model path reproduces Fader, Hardie & Lee (2005) on
CDNOW_sample.txt within 1% — the calibration summary comes from the dbt model
int_rfm_calibration_holdout (calibration_end 1997-09-30) and goes through the same
loyalty_analytics.clv functions the dbt Python models call."""

from __future__ import annotations

import pytest
from conftest import connect

from loyalty_analytics import clv

PUBLISHED = {
    "bgnbd": {"r": 0.2426, "alpha": 30.895, "a": 0.7929, "b": 2.4259},  # alpha per day (= 4.4136 per week)
    "pareto_nbd": {"r": 0.5533, "alpha": 10.578 * 7, "s": 0.6063, "beta": 11.669 * 7},  # per day
    "gamma_gamma": {"p": 6.2496, "q": 3.7442, "v": 15.4435},
}


@pytest.fixture(scope="module")
def sql_calibration_summary(cdnow_sample_build):
    con = connect(cdnow_sample_build)
    try:
        assert (
            str(con.sql("select calibration_end from intermediate.int_run_parameters").fetchall()[0][0]) == "1997-09-30"
        )
        frame = con.sql(
            """select customer_id, frequency_cal as frequency, recency_cal as recency, T_cal as T,
                      monetary_value_cal as monetary_value
               from intermediate.int_rfm_calibration_holdout order by customer_id"""
        ).df()
    finally:
        con.close()
    return frame.set_index("customer_id")


def _relative_error(ours: float, published: float) -> float:
    return abs(ours - published) / abs(published)


@pytest.mark.slow
def test_sql_summary_reproduces_published_bgnbd(sql_calibration_summary):
    fitted = clv.fit_bgnbd(sql_calibration_summary).params_
    for name, value in PUBLISHED["bgnbd"].items():
        assert _relative_error(fitted[name], value) < 0.01, (name, fitted[name], value)


@pytest.mark.slow
def test_sql_summary_reproduces_published_pareto_nbd(sql_calibration_summary):
    fitted = clv.fit_pareto_nbd(sql_calibration_summary).params_
    for name, value in PUBLISHED["pareto_nbd"].items():
        assert _relative_error(fitted[name], value) < 0.01, (name, fitted[name], value)


@pytest.mark.slow
def test_sql_summary_reproduces_published_gamma_gamma(sql_calibration_summary):
    repeat_buyers = sql_calibration_summary[sql_calibration_summary["frequency"] > 0]
    assert len(repeat_buyers) == 946
    fitted = clv.fit_gamma_gamma(sql_calibration_summary).params_
    for name, value in PUBLISHED["gamma_gamma"].items():
        assert _relative_error(fitted[name], value) < 0.01, (name, fitted[name], value)


@pytest.mark.slow
def test_cdnow_clv_marts_published(cdnow_sample_build):
    con = connect(cdnow_sample_build)
    try:
        n_clv = con.sql("select count(*) from marts.customer_clv").fetchall()[0][0]
        n_rfm = con.sql("select count(*) from marts.customer_rfm").fetchall()[0][0]
        holdout = dict(
            con.sql(
                "select model_name, value from marts.model_metrics where metric = 'mae' and split = 'holdout'"
            ).fetchall()
        )
    finally:
        con.close()
    assert n_clv == n_rfm == 2357
    assert holdout["clv_bgnbd"] < holdout["clv_naive_past_rate"]
