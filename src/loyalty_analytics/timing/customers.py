"""Customer-level inputs of the timing models, from the same purchase days and the same cut: the
customer's RFM + T summary (distinct days with any item of the level) and P(alive) from a BG/NBD
(``lifetimes``, as the CLV model) fitted on that summary, so no model sees a day after its cut."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_analytics.clv.fit import fit_bgnbd
from loyalty_analytics.clv.fitters import ConvergenceError
from loyalty_analytics.timing.histories import day_number

BGNBD_PARAMETERS = ("r", "alpha", "a", "b")


def customer_summary(days: pd.DataFrame, as_of) -> pd.DataFrame:
    """One row per customer of prepared purchase days (cut at ``as_of``), sorted by customer_id:
    frequency (distinct purchase days − 1), recency (last − first day), T (as_of − first day),
    days_since_last (as_of − last day), n_items (distinct items bought)."""
    cut = day_number(as_of)
    per_day = days[["customer_id", "day"]].drop_duplicates()
    grouped = per_day.groupby("customer_id", sort=True)["day"]
    first, last, n_days = grouped.min(), grouped.max(), grouped.size()
    n_items = days.groupby("customer_id", sort=True)["item_id"].nunique()
    return pd.DataFrame(
        {
            "customer_id": first.index.to_numpy(),
            "frequency": (n_days - 1).to_numpy(dtype=float),
            "recency": (last - first).to_numpy(dtype=float),
            "T": (cut - first).to_numpy(dtype=float),
            "days_since_last": (cut - last).to_numpy(dtype=float),
            "n_items": n_items.reindex(first.index).to_numpy(dtype=float),
        }
    )


PENALIZERS = (0.0, 0.001, 0.01)  # tried in turn when lifetimes does not converge


def fit_alive_model(summary: pd.DataFrame) -> dict:
    """BG/NBD parameters (r, alpha, a, b; day units) of a customer summary; the smallest penalizer
    of :data:`PENALIZERS` that converges. Empty (no P(alive): every customer counts as alive)
    when none does, e.g. on data where nobody leaves."""
    for penalizer in PENALIZERS:
        try:
            fitted = fit_bgnbd(summary, penalizer)
        except ConvergenceError:
            continue
        return {name: float(fitted.params_[name]) for name in BGNBD_PARAMETERS}
    return {}


def probability_alive(params: dict, summary: pd.DataFrame) -> np.ndarray:
    """BG/NBD P(alive at the cut | frequency x, recency, T):
    1 / (1 + a/(b + x − 1) · ((alpha + T)/(alpha + recency))^(r + x)) for x > 0, else 1; 1 for
    everyone without parameters (:func:`fit_alive_model` found none)."""
    x = summary["frequency"].to_numpy(dtype=float)
    if not params:
        return np.ones(len(x))
    recency, age = summary["recency"].to_numpy(dtype=float), summary["T"].to_numpy(dtype=float)
    r, alpha, a, b = (params[name] for name in BGNBD_PARAMETERS)
    repeat = x > 0
    log_odds = np.log(a) - np.log(np.maximum(b + x - 1.0, 1e-12)) + (r + x) * np.log((alpha + age) / (alpha + recency))
    return np.where(repeat, 1.0 / (1.0 + np.exp(np.minimum(log_odds, 700.0))), 1.0)


def pair_values(pair_customers: np.ndarray, summary: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """A per-customer value (rows of ``summary``) for each pair's customer."""
    positions = pd.Index(summary["customer_id"].to_numpy()).get_indexer(pair_customers)
    if (positions < 0).any():
        raise ValueError("a pair's customer is missing from the customer summary")
    return np.asarray(values)[positions]
