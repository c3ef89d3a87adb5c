"""How the timing models are judged (docs/timing.md, "Evaluation"): predictions made at a cut for the
pairs bought on ≥ 2 days up to it, against the purchases in (cut, end].

* per horizon h: Brier score, AUC and expected calibration error of P(buy within h days) against
  "bought again within h days after the cut"; ECE = Σ_b (n_b / n)·|mean p_b − observed rate_b| over
  10 equal-width probability bins [0, 0.1), …, [0.9, 1.0];
* mae_days: mean |expected_next_date − first purchase day after the cut| over the pairs bought again
  in (cut, end] — the others are censored (their next purchase is unknown) and left out;
* on generated data, the expected interval against the product's planted repurchase cycle.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from loyalty_analytics.metrics import metric_row
from loyalty_analytics.timing.histories import day_number, day_numbers, first_purchase_after, prepare_purchase_days
from loyalty_analytics.timing.outputs import probability_column

ECE_BINS = 10


def expected_calibration_error(probability, outcome, bins: int = ECE_BINS) -> float:
    """Σ_b (n_b / n)·|mean probability_b − observed rate_b| over equal-width bins of [0, 1]."""
    p = np.asarray(probability, dtype=float)
    y = np.asarray(outcome, dtype=float)
    if len(p) == 0:
        return float("nan")
    which = np.minimum((p * bins).astype(int), bins - 1)
    gap = np.bincount(which, p, bins) - np.bincount(which, y, bins)
    return float(np.abs(gap).sum() / len(p))


def probability_metrics(probability, outcome) -> dict:
    """brier, auc (NaN when the outcome has one class), ece, mean_probability, observed_rate."""
    p = np.asarray(probability, dtype=float)
    y = np.asarray(outcome, dtype=float)
    both = len(np.unique(y)) == 2
    return {
        "brier": float(np.mean((p - y) ** 2)) if len(p) else float("nan"),
        "auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "ece": expected_calibration_error(p, y),
        "mean_probability": float(p.mean()) if len(p) else float("nan"),
        "observed_rate": float(y.mean()) if len(y) else float("nan"),
    }


def next_purchase_days(purchase_days: pd.DataFrame, cut, end) -> pd.DataFrame:
    """customer_id, item_id, next_day: each pair's first purchase day in (cut, end]."""
    return first_purchase_after(prepare_purchase_days(purchase_days, end, cut), cut, end)


def with_outcomes(predictions: pd.DataFrame, purchase_days: pd.DataFrame, cut, end) -> pd.DataFrame:
    """The predictions with ``days_to_purchase``: days from the cut to the pair's first purchase in
    (cut, end] (NaN when it was not bought again in the window)."""
    nxt = next_purchase_days(purchase_days, cut, end)
    out = predictions.merge(nxt, on=["customer_id", "item_id"], how="left")
    out["days_to_purchase"] = out["next_day"].to_numpy(dtype=float) - day_number(cut)
    return out.drop(columns="next_day")


def model_rows(model_name: str, scored: pd.DataFrame, cut, split: str, horizons) -> list[tuple]:
    """Metric rows of one model's predictions with outcomes (:func:`with_outcomes`)."""
    to_purchase = scored["days_to_purchase"].to_numpy(dtype=float)
    rows = []
    for h in horizons:
        values = probability_metrics(scored[probability_column(h)], np.nan_to_num(to_purchase, nan=np.inf) <= h)
        rows += [metric_row(model_name, metric, value, split, h) for metric, value in values.items()]
    bought = ~np.isnan(to_purchase)
    expected = day_numbers(scored["expected_next_date"].to_numpy()) - day_number(cut)
    mae = float(np.abs(expected[bought] - to_purchase[bought]).mean()) if bought.any() else float("nan")
    rows += [
        metric_row(model_name, "mae_days", mae, split),
        metric_row(model_name, "n_pairs", len(scored), split),
        metric_row(model_name, "n_bought_again", int(bought.sum()), split),
    ]
    return rows


def planted_cycle_rows(model_name: str, predictions: pd.DataFrame, cycles: pd.Series, split: str) -> list[tuple]:
    """The expected interval against the planted repurchase cycle of the pair's product (products
    without a cycle left out): mae_days, median_ratio (expected / planted), n_pairs."""
    cycle = cycles.reindex(predictions["item_id"].astype(str).to_numpy()).to_numpy(dtype=float)
    known = np.isfinite(cycle)
    if not known.any():
        return []
    expected = predictions["expected_interval_days"].to_numpy(dtype=float)[known]
    return [
        metric_row(model_name, "mae_days", float(np.abs(expected - cycle[known]).mean()), split),
        metric_row(model_name, "median_ratio", float(np.median(expected / cycle[known])), split),
        metric_row(model_name, "n_pairs", int(known.sum()), split),
    ]
