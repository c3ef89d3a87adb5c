"""The one output shape of every timing model (pooled and baselines), per customer × item bought
on ≥ 2 days up to the cut. Units and definitions: docs/timing.md, "Outputs"."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_analytics.timing.histories import dates_of, day_number

DEFAULT_HORIZONS = (7, 14, 30)


def probability_column(horizon_days: int) -> str:
    return f"p_buy_{int(horizon_days)}d"


PREDICTION_COLUMNS = [
    "customer_id",
    "item_id",
    "n_purchase_days",
    "last_purchase_date",
    "mean_interval_days",
    "expected_interval_days",
    *(probability_column(h) for h in DEFAULT_HORIZONS),
    "expected_next_date",
    "days_overdue",
]


def prediction_frame(
    pairs: pd.DataFrame, expected_interval, probabilities: dict, as_of, days_to_next=None
) -> pd.DataFrame:
    """Rows of ``pairs`` (pair histories bought on ≥ 2 days) with a model's expected interval
    (days), P(buy within h days after the cut) per horizon h (``probabilities``) and, for a model
    that forecasts from the cut, the days from the cut to the expected next purchase:

    * mean_interval_days = (last − first purchase day) / (purchase days − 1), the pair's own mean;
    * the rhythm date = last purchase date + the expected interval in whole days (≥ 1);
    * expected_next_date = cut + ``days_to_next`` (whole days, ≥ 1) when given, else the rhythm date
      (a model without a forecast from the cut: the date may lie before the cut);
    * days_overdue = max(0, cut − rhythm date) in days: how far the pair is past its usual interval.
    """
    interval = np.asarray(expected_interval, dtype=float)
    last = pairs["last_day"].to_numpy(dtype=np.int64)
    rhythm_day = last + np.maximum(1, np.rint(interval)).astype(np.int64)
    cut = day_number(as_of)
    if days_to_next is None:
        next_day = rhythm_day
    else:
        next_day = cut + np.maximum(1, np.rint(np.asarray(days_to_next, dtype=float))).astype(np.int64)
    n_days = pairs["n_days"].to_numpy(dtype=np.int64)
    out = pd.DataFrame(
        {
            "customer_id": pairs["customer_id"].to_numpy(),
            "item_id": pairs["item_id"].to_numpy(),
            "n_purchase_days": n_days,
            "last_purchase_date": dates_of(last),
            "mean_interval_days": pairs["sum_intervals"].to_numpy(dtype=float) / np.maximum(n_days - 1, 1),
            "expected_interval_days": interval,
        }
    )
    for horizon, p in sorted(probabilities.items()):
        out[probability_column(horizon)] = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
    out["expected_next_date"] = dates_of(next_day)
    out["days_overdue"] = np.maximum(cut - rhythm_day, 0).astype(np.int64)
    return out
