"""CLV evaluation rows (``loyalty_analytics.metrics``): the holdout check of a model fitted on
the calibration period against the naive past-rate baseline, the Gamma-Gamma independence
check, and P(alive) AUC against the planted truth. Definitions: docs/clv.md, "Evaluation"."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import clone

from loyalty_analytics import truth as planted
from loyalty_analytics.clv.model import CLVModel
from loyalty_analytics.clv.predict import expected_purchases
from loyalty_analytics.clv.summary import by_customer, summary_arrays
from loyalty_analytics.metrics import metric_rows, metrics_frame

MODEL_NAMES = {  # model_name values used in metric rows
    "bgnbd": "clv_bgnbd",
    "pareto_nbd": "clv_pareto_nbd",
    "gamma_gamma": "clv_gamma_gamma",
    "naive": "clv_naive_past_rate",
}
CALIBRATION_HOLDOUT_COLUMNS = ["frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"]


def regression_metrics(predicted, actual) -> dict:
    predicted = np.asarray(predicted, dtype=float)
    actual = np.asarray(actual, dtype=float)
    err = predicted - actual
    if len(actual) > 1 and predicted.std() > 0 and actual.std() > 0:
        corr = float(np.corrcoef(predicted, actual)[0, 1])
    else:
        corr = float("nan")
    return {
        "mae": float(np.abs(err).mean()),
        "rmse": float(np.sqrt((err**2).mean())),
        "pearson_r": corr,
        "predicted_total": float(predicted.sum()),
        "actual_total": float(actual.sum()),
        "total_relative_error": float(predicted.sum() / actual.sum() - 1) if actual.sum() > 0 else float("nan"),
        "n_customers": float(len(actual)),
    }


def naive_holdout_prediction(cal_holdout: pd.DataFrame) -> np.ndarray:
    """frequency_cal / T_cal (0 if T_cal == 0) times duration_holdout."""
    f = cal_holdout["frequency_cal"].to_numpy(dtype=float)
    t = cal_holdout["T_cal"].to_numpy(dtype=float)
    rate = np.divide(f, t, out=np.zeros_like(f), where=t > 0)
    return rate * cal_holdout["duration_holdout"].to_numpy(dtype=float)


def calibration_summary(cal_holdout: pd.DataFrame) -> pd.DataFrame:
    """The calibration-period RFM summary of a calibration/holdout table (lifetimes'
    ``calibration_and_holdout_data`` layout)."""
    missing = [c for c in CALIBRATION_HOLDOUT_COLUMNS if c not in cal_holdout.columns]
    if missing:
        raise ValueError(f"calibration/holdout table is missing column(s) {missing}")
    out = pd.DataFrame(
        {
            "frequency": cal_holdout["frequency_cal"].to_numpy(dtype=float),
            "recency": cal_holdout["recency_cal"].to_numpy(dtype=float),
            "T": cal_holdout["T_cal"].to_numpy(dtype=float),
        }
    )
    mv = cal_holdout["monetary_value_cal"] if "monetary_value_cal" in cal_holdout.columns else 0.0
    out["monetary_value"] = np.asarray(mv, dtype=float) if np.ndim(mv) else 0.0
    return out


def holdout_metrics(cal_holdout: pd.DataFrame, calibration_model: CLVModel) -> pd.DataFrame:
    """Rows (model_name, metric, None, 'holdout', value) of a model fitted on the calibration
    summary, predicting ``frequency_holdout`` over ``duration_holdout``: for every fitted
    transaction model (with 'selected' 1/0) and the naive baseline mae, rmse, pearson_r,
    predicted_total, actual_total, total_relative_error, n_customers; Gamma-Gamma spend_mae,
    spend_rmse, spend_pearson_r against the holdout buyers' mean spend."""
    cal_holdout = by_customer(cal_holdout)
    cal = calibration_summary(cal_holdout)
    actual = cal_holdout["frequency_holdout"].to_numpy(dtype=float)
    duration = cal_holdout["duration_holdout"].to_numpy(dtype=float)
    rows = []
    for name, fitted in calibration_model.transaction_models_.items():
        metrics = regression_metrics(expected_purchases(fitted, duration, cal), actual)
        metrics["selected"] = float(name == calibration_model.selected_)
        rows += metric_rows(MODEL_NAMES[name], metrics, "holdout")
    rows += metric_rows(
        MODEL_NAMES["naive"], regression_metrics(naive_holdout_prediction(cal_holdout), actual), "holdout"
    )
    if {"monetary_value_holdout", "monetary_value_cal"} <= set(cal_holdout.columns):
        buyers = actual > 0
        if buyers.any():
            expected_spend = calibration_model.expected_average_spend(cal)[buyers]
            observed = cal_holdout["monetary_value_holdout"].to_numpy(dtype=float)[buyers]
            r = regression_metrics(expected_spend, observed)
            rows += metric_rows(
                MODEL_NAMES["gamma_gamma"], {f"spend_{k}": r[k] for k in ("mae", "rmse", "pearson_r")}, "holdout"
            )
    return metrics_frame(rows)


def gamma_gamma_independence(summary: pd.DataFrame) -> float:
    """Pearson corr(frequency, monetary_value) among repeat buyers (seed 001: -0.032)."""
    f, _, _, m = summary_arrays(summary, need_monetary=True)
    keep = f > 0
    if keep.sum() < 3 or f[keep].std() == 0 or m[keep].std() == 0:
        return float("nan")
    return float(np.corrcoef(f[keep], m[keep])[0, 1])


def p_alive_auc(p_alive, alive) -> float:
    from sklearn.metrics import roc_auc_score

    alive = np.asarray(alive, dtype=bool)
    if alive.all() or not alive.any():
        return float("nan")
    return float(roc_auc_score(alive, np.asarray(p_alive, dtype=float)))


def _p_alive_rows(rfm: pd.DataFrame, model: CLVModel, truth) -> list[tuple]:
    if isinstance(truth, str) and truth == "auto":
        truth = planted.load_truth(rfm["customer_id"], ["alive_at_end"]) if "customer_id" in rfm.columns else None
    if truth is None:
        return []
    alive = truth.set_index(truth["customer_id"].astype(str))["alive_at_end"]
    alive = alive.reindex(rfm["customer_id"].astype(str)).to_numpy()
    if pd.isna(alive).any():
        return []
    auc = p_alive_auc(model.probability_alive(rfm), alive.astype(bool))
    return metric_rows(MODEL_NAMES[model.selected_], {"p_alive_auc": auc}, "truth")


def evaluate_clv(
    rfm: pd.DataFrame,
    model: CLVModel,
    cal_holdout: pd.DataFrame | None = None,
    truth: pd.DataFrame | None | str = "auto",
) -> pd.DataFrame:
    """Every CLV metric row for a fitted (or stored) ``model``.

    The holdout check fits a second model with the same hyper-parameters on the calibration
    period of ``cal_holdout`` (an evaluation fit: the stored model has seen the holdout period).
    ``truth='auto'`` reads the planted truth (skipped when absent or stale); pass a DataFrame
    with customer_id, alive_at_end, or None to skip the AUC."""
    rfm = by_customer(rfm)
    frames = []
    if cal_holdout is not None and len(cal_holdout):
        cal_holdout = by_customer(cal_holdout)
        calibration_model = clone(model).fit(calibration_summary(cal_holdout))
        frames.append(holdout_metrics(cal_holdout, calibration_model))
    rows = metric_rows(MODEL_NAMES["gamma_gamma"], {"corr_frequency_monetary": gamma_gamma_independence(rfm)}, "full")
    rows += _p_alive_rows(rfm, model, truth)
    frames.append(metrics_frame(rows))
    return pd.concat(frames, ignore_index=True)
