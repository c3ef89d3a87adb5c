"""CLV: real-data proof on lifetimes' CDNOW_sample.txt, holdout metrics, CLV properties."""

import copy
import os

import numpy as np
import pandas as pd
import pytest

from loyalty_analytics import clv


@pytest.fixture(scope="module")
def cdnow_cal_holdout():
    import lifetimes
    from lifetimes.utils import calibration_and_holdout_data

    path = os.path.join(os.path.dirname(lifetimes.__file__), "datasets", "CDNOW_sample.txt")
    # whitespace-separated: customer id (full data set), customer id (sample), yyyymmdd, CDs, dollars
    tx = pd.read_csv(
        path,
        sep=r"\s+",
        header=None,
        names=["customer_id", "sample_id", "date", "quantity", "amount"],
        dtype={"date": str},
    )
    assert len(tx) == 6919 and tx["customer_id"].nunique() == 2357
    tx["date"] = pd.to_datetime(tx["date"], format="%Y%m%d")
    return calibration_and_holdout_data(
        tx,
        "customer_id",
        "date",
        calibration_period_end="1997-09-30",
        observation_period_end="1998-06-30",
        freq="D",
        monetary_value_col="amount",
    )


@pytest.fixture(scope="module")
def cdnow_summary(cdnow_cal_holdout):
    s = cdnow_cal_holdout
    return pd.DataFrame(
        {
            "customer_id": s.index.astype(str),
            "frequency": s["frequency_cal"].to_numpy(),
            "recency": s["recency_cal"].to_numpy(),
            "T": s["T_cal"].to_numpy(),
            "monetary_value": s["monetary_value_cal"].to_numpy(),
        }
    )


@pytest.fixture(scope="module")
def cdnow_fit(cdnow_summary):
    return clv.CLVModel(transaction_model="auto", penalizer=0.0).fit(cdnow_summary)


def rel(a, b):
    return abs(a / b - 1)


def test_cdnow_reproduces_published_parameters(cdnow_summary, cdnow_fit):
    bg = cdnow_fit.transaction_models_["bgnbd"].params_
    for k, v in {"r": 0.2426, "alpha": 30.895, "a": 0.7929, "b": 2.4259}.items():
        assert rel(bg[k], v) < 0.01, (k, bg[k])
    assert rel(bg["alpha"] / 7, 4.4136) < 0.01  # 30.895 per day == 4.4136 per week
    pn = cdnow_fit.transaction_models_["pareto_nbd"].params_  # lifetimes' rates are per day
    assert rel(pn["r"], 0.5533) < 0.01 and rel(pn["s"], 0.6063) < 0.01
    assert rel(pn["alpha"] / 7, 10.578) < 0.01  # per week
    assert rel(pn["beta"] / 7, 11.669) < 0.01
    gg = cdnow_fit.gamma_gamma_
    assert cdnow_fit.n_customers_["gamma_gamma"] == 946
    for k, v in {"p": 6.2496, "q": 3.7442, "v": 15.4435}.items():
        assert rel(gg.params_[k], v) < 0.01, (k, gg.params_[k])


def test_named_model_and_fit_functions_take_plain_frame(cdnow_summary):
    plain = cdnow_summary[["frequency", "recency", "T", "monetary_value"]].copy()
    assert rel(clv.fit_bgnbd(plain).params_["r"], 0.2426) < 0.01
    fit = clv.CLVModel(transaction_model="bgnbd").fit(plain)
    assert fit.selected_ == "bgnbd" and list(fit.transaction_models_) == ["bgnbd"]
    with pytest.raises(ValueError, match="missing column"):
        clv.fit_bgnbd(plain.drop(columns=["T"]))
    bad = plain.copy()
    bad.loc[0, "recency"] = bad.loc[0, "T"] + 1
    with pytest.raises(ValueError, match="invalid RFM row 0"):
        clv.fit_bgnbd(bad)


def test_params_table(cdnow_fit):
    p = cdnow_fit.to_params()
    assert list(p.columns) == ["model", "parameter", "value"]
    assert not p.duplicated(["model", "parameter"]).any()
    for m in ("bgnbd", "pareto_nbd", "gamma_gamma"):
        got = set(p[p.model == m].parameter)
        assert {"log_likelihood", "n_customers", "fit_seconds"} <= got
    assert p.query("parameter == 'selected'").value.sum() == 1
    ll = p.set_index(["model", "parameter"]).value
    best = "bgnbd" if ll["bgnbd", "log_likelihood"] >= ll["pareto_nbd", "log_likelihood"] else "pareto_nbd"
    assert cdnow_fit.selected_ == best


def test_predictions_clv_nonnegative_and_monotone(cdnow_summary, cdnow_fit):
    pred = cdnow_fit.predict(cdnow_summary)
    assert len(pred) == len(cdnow_summary) and pred["customer_id"].tolist() == cdnow_summary["customer_id"].tolist()
    assert pred["p_alive"].between(0, 1).all()
    e = pred[["expected_purchases_30d", "expected_purchases_90d", "expected_purchases_180d", "expected_purchases_365d"]]
    assert (e.diff(axis=1).iloc[:, 1:] >= -1e-12).all().all() and (e >= 0).all().all()
    c = pred[["clv_1m", "clv_3m", "clv_6m", "clv_12m"]]
    assert (c >= 0).all().all()
    assert (c.diff(axis=1).iloc[:, 1:] >= 0).all().all()
    p, q, v = cdnow_fit.gamma_gamma_.params_[["p", "q", "v"]]
    no_repeat = cdnow_summary["frequency"].to_numpy() == 0
    assert np.allclose(pred.loc[no_repeat, "expected_avg_spend"], p * v / (q - 1))
    # equals lifetimes' own (looping) CLV with freq='D'
    from lifetimes.utils import _customer_lifetime_value

    s = cdnow_summary.head(50)
    ref = _customer_lifetime_value(
        cdnow_fit.model_,
        s["frequency"],
        s["recency"],
        s["T"],
        pd.Series(cdnow_fit.expected_average_spend(s), index=s.index),
        time=12,
        discount_rate=0.01,
        freq="D",
    )
    assert np.allclose(pred["clv_12m"].head(50), ref.to_numpy(), rtol=1e-9, atol=1e-9)


def test_holdout_metrics_hand_example(cdnow_fit):
    ch = pd.DataFrame(
        {
            "frequency_cal": [0.0, 2.0, 5.0, 1.0],
            "recency_cal": [0.0, 30.0, 80.0, 10.0],
            "T_cal": [0.0, 60.0, 100.0, 50.0],
            "monetary_value_cal": [0.0, 20.0, 30.0, 10.0],
            "frequency_holdout": [0.0, 1.0, 4.0, 0.0],
            "monetary_value_holdout": [0.0, 25.0, 30.0, 0.0],
            "duration_holdout": [50.0] * 4,
        }
    )
    naive = clv.naive_holdout_prediction(ch)
    assert np.allclose(naive, [0.0, 2 / 60 * 50, 5 / 100 * 50, 1 / 50 * 50])
    m = clv.holdout_metrics(ch, cdnow_fit)
    assert set(m.split) == {"holdout"} and m["k"].isna().all()
    nv = m[m.model_name == "clv_naive_past_rate"].set_index("metric").value
    err = naive - ch["frequency_holdout"].to_numpy()
    assert nv["mae"] == pytest.approx(np.abs(err).mean())
    assert nv["rmse"] == pytest.approx(np.sqrt((err**2).mean()))
    assert nv["pearson_r"] == pytest.approx(np.corrcoef(naive, ch["frequency_holdout"])[0, 1])
    assert nv["predicted_total"] == pytest.approx(naive.sum()) and nv["actual_total"] == 5.0
    pred = cdnow_fit.model_.predict(50.0, ch["frequency_cal"], ch["recency_cal"], ch["T_cal"])
    sel = m[m.model_name == f"clv_{cdnow_fit.selected_}"].set_index("metric").value
    assert sel["mae"] == pytest.approx(np.abs(np.asarray(pred) - ch["frequency_holdout"]).mean())
    assert sel["selected"] == 1.0


def test_cdnow_holdout_beats_naive(cdnow_cal_holdout):
    calibration_model = clv.CLVModel(transaction_model="bgnbd").fit(clv.calibration_summary(cdnow_cal_holdout))
    m = clv.holdout_metrics(cdnow_cal_holdout, calibration_model).set_index(["model_name", "metric"]).value
    assert m["clv_bgnbd", "mae"] < m["clv_naive_past_rate", "mae"]
    assert abs(m["clv_bgnbd", "total_relative_error"]) < abs(m["clv_naive_past_rate", "total_relative_error"])
    assert m["clv_bgnbd", "actual_total"] == cdnow_cal_holdout["frequency_holdout"].sum()


def test_evaluate_with_and_without_truth(cdnow_summary, cdnow_fit):
    m = clv.evaluate_clv(cdnow_summary, cdnow_fit, truth=None)
    corr = m[m.metric == "corr_frequency_monetary"].value.iloc[0]
    rep = cdnow_summary[cdnow_summary.frequency > 0]
    assert corr == pytest.approx(np.corrcoef(rep.frequency, rep.monetary_value)[0, 1])
    assert "p_alive_auc" not in set(m.metric)
    rng = np.random.default_rng(0)
    alive = rng.random(len(cdnow_summary)) < 0.5
    truth = pd.DataFrame({"customer_id": cdnow_summary["customer_id"], "alive_at_end": alive})
    m2 = clv.evaluate_clv(cdnow_summary, cdnow_fit, truth=truth)
    auc = m2[m2.metric == "p_alive_auc"]
    assert len(auc) == 1 and auc.split.iloc[0] == "truth" and 0.3 < auc.value.iloc[0] < 0.7


def test_predictions_reproducible_from_stored_params(cdnow_summary, cdnow_fit):
    """The params table is the store: any row order of it gives back the same model (hyper-parameters
    included) and bit-identical predictions."""
    fitted = copy.deepcopy(cdnow_fit).set_params(discount_rate=0.02)
    params = fitted.to_params()
    rebuilt = clv.CLVModel.from_params(params.sample(frac=1.0, random_state=5))
    assert rebuilt.get_params() == {"transaction_model": "auto", "penalizer": 0.0, "discount_rate": 0.02}
    assert rebuilt.selected_ == cdnow_fit.selected_
    pd.testing.assert_frame_equal(rebuilt.to_params(), params, check_exact=True)
    a = fitted.predict(cdnow_summary).drop(columns="customer_id")
    b = rebuilt.predict(cdnow_summary).drop(columns="customer_id")
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    one_model = clv.CLVModel.from_params(
        params[params.model != "pareto_nbd"].assign(
            value=lambda t: t.value.where(~((t.model == "bgnbd") & (t.parameter == "selected")), 1.0)
        )
    )
    assert one_model.get_params()["transaction_model"] == "bgnbd"


def test_fit_predictions_and_metrics_do_not_depend_on_row_order(cdnow_summary, cdnow_cal_holdout, cdnow_fit):
    """A warehouse query returns rows in no fixed order: the same customers in another order must
    give bit-identical parameters, predictions and metrics (fit_seconds aside)."""
    shuffled = cdnow_summary.sample(frac=1.0, random_state=3)
    fit = clv.CLVModel(transaction_model="auto").fit(shuffled)
    timing = "fit_seconds"
    a, b = cdnow_fit.to_params(), fit.to_params()
    pd.testing.assert_frame_equal(a[a.parameter != timing], b[b.parameter != timing], check_exact=True)
    pred_a = cdnow_fit.predict(cdnow_summary).set_index("customer_id")
    pred_b = fit.predict(shuffled).set_index("customer_id").loc[pred_a.index]
    pd.testing.assert_frame_equal(pred_a, pred_b, check_exact=True)
    cal_holdout = cdnow_cal_holdout.rename_axis("customer_id").reset_index().astype({"customer_id": str})
    metrics_a = clv.evaluate_clv(cdnow_summary, cdnow_fit, cal_holdout, truth=None)
    metrics_b = clv.evaluate_clv(shuffled, fit, cal_holdout.sample(frac=1.0, random_state=4), truth=None)
    pd.testing.assert_frame_equal(metrics_a, metrics_b, check_exact=True)
