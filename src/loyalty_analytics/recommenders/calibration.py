"""Calibrated purchase probability of a listed recommendation, and its reliability.

``purchase_probability`` = P(the customer buys the product at that affiliate within the horizon
W days after the cut), W = observation_end − calibration_end (the reported split's truth
window; 92 days on the generated L.Point data). A model's raw score is on its own scale (a
count, a dot product, a log-probability, a logit) and is kept as it is; the probability comes
from a calibrator fitted per (model, kind).

**Calibrator** — a logistic regression with sign constraints on four features of a listed row:

* ``score_percentile``: the row's score as a percentile (0–1] among the rows of the same model
  and kind in the same fit (the scale of a raw score drifts between fits — more history gives
  larger counts — its order does not);
* ``log_rank``: log of the rank in the unit's list;
* ``log_recent_visit_days``: log(1 + distinct days the customer bought at that affiliate in the
  W days before the cut) — how often the customer comes to the affiliate at all;
* ``log_recent_product_days``: log(1 + distinct days the customer bought this product at that
  affiliate in the W days before the cut) — 0 for the two new kinds; for replenishment the
  strongest sign of being due, on a window as long as the horizon (a raw count over the whole
  history grows with its length).

Weights are constrained to ≥ 0, ≤ 0, ≥ 0 and ≥ 0 (L-BFGS-B with bounds, a small L2 penalty):
a higher score, a better rank or more recent purchases never lower the probability, so within a
unit's list it falls with the rank except where a lower product was bought there more often
lately. It is fitted on the inner split (lists of the models fitted up to selection_end,
outcomes in (selection_end, calibration_end]) and applied unchanged to the reported split (to
measure it) and to the published lists. Why not isotonic regression on the raw score: the raw
scale moves between the fits it is applied to, and a score alone does not know how often the
customer visits the affiliate or bought the product lately; the four features keep the map
monotone and scale-free with five parameters (stored as rows of a table, no pickle). What it
cannot follow is a change of the purchase rate itself between the inner window and a later one
(on the generated data the listed products are bought less often in the later window: longer
histories leave fewer likely products to list) — that shows in the reported ECE.

**Reliability**: 10 equal-width probability bins [0, 0.1), … [0.9, 1]; per bin the rows n, the
mean predicted probability and the observed purchase rate; expected calibration error
ECE = Σ_b (n_b / N) · |mean_probability_b − observed_rate_b|.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.stats import rankdata

from .data import InteractionData

__all__ = [
    "FEATURES",
    "RELIABILITY_BINS",
    "PurchaseCalibrator",
    "calibration_features",
    "expected_calibration_error",
    "min_max_scaled",
    "recent_activity",
    "reliability_table",
    "row_keys",
]

FEATURES = ("score_percentile", "log_rank", "log_recent_visit_days", "log_recent_product_days")
# weight bounds: a higher score, a better (lower) rank, more recent visits and more recent purchases of the
# product never lower the probability
BOUNDS = ((0.0, None), (None, 0.0), (0.0, None), (0.0, None))
L2 = 1e-3
RELIABILITY_BINS = 10


@dataclass(frozen=True)
class RecentActivity:
    """What a customer did in the ``window_days`` days up to and including the cut."""

    visit_days: np.ndarray  # float64 [n_customers, n_affiliates]: distinct days with a purchase there
    product_keys: np.ndarray  # int64 sorted keys (customer · A + affiliate) · P + product bought there
    product_days: np.ndarray  # int64: distinct days each key was bought
    n_affiliates: int
    n_products: int

    def product_days_of(self, customer_idx, affiliate_idx, product_idx) -> np.ndarray:
        """float64 per (customer, affiliate, product): distinct recent days it was bought there."""
        if not len(self.product_keys):
            return np.zeros(len(np.asarray(customer_idx)))
        key = row_keys(customer_idx, affiliate_idx, product_idx, self.n_affiliates, self.n_products)
        at = np.minimum(np.searchsorted(self.product_keys, key), len(self.product_keys) - 1)
        return np.where(self.product_keys[at] == key, self.product_days[at], 0).astype(np.float64)


def row_keys(customer_idx, affiliate_idx, product_idx, n_affiliates: int, n_products: int) -> np.ndarray:
    """int64 key of each (customer, affiliate, product): (customer · A + affiliate) · P + product."""
    c, a, p = (np.asarray(x, dtype=np.int64) for x in (customer_idx, affiliate_idx, product_idx))
    return (c * n_affiliates + a) * n_products + p


def recent_activity(data: InteractionData, window_days: int) -> RecentActivity:
    """Distinct purchase days per customer × affiliate and per customer × affiliate × product in
    the ``window_days`` days up to and including the cut."""
    ln = data.lines
    day = ln["purchased_at"].dt.floor("D")
    recent = (day >= pd.Timestamp(data.cut_date) - pd.Timedelta(days=int(window_days) - 1)).to_numpy()
    days = pd.DataFrame(
        {
            "c": ln["customer_idx"].to_numpy()[recent],
            "a": ln["affiliate_idx"].to_numpy()[recent].astype(np.int64),
            "p": ln["product_idx"].to_numpy()[recent],
            "d": day[recent].to_numpy(),
        }
    )
    visits = days[["c", "a", "d"]].drop_duplicates()
    visit_days = np.zeros((data.n_customers, data.n_affiliates), dtype=np.float64)
    np.add.at(visit_days, (visits["c"].to_numpy(), visits["a"].to_numpy()), 1.0)
    keys = row_keys(days["c"], days["a"], days["p"], data.n_affiliates, data.n_products)
    product_keys, product_days = np.unique(
        pd.DataFrame({"k": keys, "d": days["d"].to_numpy()}).drop_duplicates()["k"].to_numpy(), return_counts=True
    )
    return RecentActivity(visit_days, product_keys, product_days.astype(np.int64), data.n_affiliates, data.n_products)


def calibration_features(lists: pd.DataFrame, activity: RecentActivity) -> np.ndarray:
    """float64 [rows, 4] (FEATURES) of one model's listed rows (kinds.kind_lists: customer_idx,
    affiliate_idx, recommendation_kind, rank, product_idx, score)."""
    percentile = np.zeros(len(lists))
    kinds = lists["recommendation_kind"].to_numpy()
    scores = lists["score"].to_numpy(dtype=np.float64)
    for kind in pd.unique(kinds):
        at = kinds == kind
        percentile[at] = rankdata(scores[at], method="average") / at.sum()
    c, a = lists["customer_idx"].to_numpy(), lists["affiliate_idx"].to_numpy().astype(np.int64)
    product_days = activity.product_days_of(c, a, lists["product_idx"].to_numpy())
    return np.column_stack(
        [
            percentile,
            np.log(lists["rank"].to_numpy(dtype=np.float64)),
            np.log1p(activity.visit_days[c, a]),
            np.log1p(product_days),
        ]
    )


@dataclass(frozen=True)
class PurchaseCalibrator:
    intercept: float
    weights: tuple[float, ...]  # one per FEATURES
    n_rows: int
    n_positive: int

    @classmethod
    def fit(cls, features: np.ndarray, outcomes: np.ndarray) -> PurchaseCalibrator:
        """Sign-constrained logistic regression of the outcomes (0/1) on the features. With
        outcomes all 0 or all 1 the features carry nothing: a constant (n_pos + ½) / (n + 1)."""
        x = np.asarray(features, dtype=np.float64)
        y = np.asarray(outcomes, dtype=np.float64)
        n, n_pos = len(y), int(y.sum())
        if n_pos in (0, n):
            rate = (n_pos + 0.5) / (n + 1.0)
            return cls(float(np.log(rate / (1.0 - rate))), (0.0,) * x.shape[1], n, n_pos)
        rate = n_pos / n
        start = np.r_[np.log(rate / (1.0 - rate)), np.zeros(x.shape[1])]
        result = minimize(_log_loss, start, args=(x, y), jac=True, method="L-BFGS-B", bounds=((None, None), *BOUNDS))
        return cls(float(result.x[0]), tuple(float(w) for w in result.x[1:]), n, n_pos)

    def predict(self, features: np.ndarray) -> np.ndarray:
        z = self.intercept + np.asarray(features, dtype=np.float64) @ np.asarray(self.weights)
        return 1.0 / (1.0 + np.exp(-z))

    # ---- stored as rows of a parameter table (int_recommendation_calibrators)
    def to_rows(self) -> list[tuple[str, float]]:
        return [
            ("intercept", self.intercept),
            *((f"weight_{name}", w) for name, w in zip(FEATURES, self.weights, strict=True)),
            ("n_rows", float(self.n_rows)),
            ("n_positive", float(self.n_positive)),
        ]

    @classmethod
    def from_rows(cls, parameters: dict[str, float]) -> PurchaseCalibrator:
        return cls(
            float(parameters["intercept"]),
            tuple(float(parameters[f"weight_{name}"]) for name in FEATURES),
            int(parameters["n_rows"]),
            int(parameters["n_positive"]),
        )


def _log_loss(params: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean log-loss + L2 on the weights (not the intercept), and its gradient (one exp and one
    log1p per row: log(1 + e^z) = max(z, 0) + log1p(e^−|z|))."""
    z = params[0] + x @ params[1:]
    e = np.exp(-np.abs(z))
    loss = np.mean(np.maximum(z, 0.0) + np.log1p(e) - y * z) + L2 * np.sum(params[1:] ** 2)
    p = np.where(z >= 0.0, 1.0, e) / (1.0 + e)
    residual = (p - y) / len(y)
    grad = np.r_[residual.sum(), x.T @ residual + 2.0 * L2 * params[1:]]
    return float(loss), grad


def min_max_scaled(scores: np.ndarray) -> np.ndarray:
    """The raw score rescaled to [0, 1] over the rows given: a reference for what reading a raw
    score as a probability would give (its ECE is reported as ``ece_uncalibrated``)."""
    s = np.asarray(scores, dtype=np.float64)
    if not len(s):
        return s
    low, high = float(np.min(s)), float(np.max(s))
    return np.zeros_like(s) if high <= low else (s - low) / (high - low)


def reliability_table(probability: np.ndarray, outcome: np.ndarray, bins: int = RELIABILITY_BINS) -> pd.DataFrame:
    """Per non-empty bin (1..bins, equal width on [0, 1]): bin, bin_lower, bin_upper, n,
    mean_probability, observed_rate."""
    p = np.asarray(probability, dtype=np.float64)
    y = np.asarray(outcome, dtype=np.float64)
    b = np.minimum((p * bins).astype(np.int64), bins - 1)
    n = np.bincount(b, minlength=bins)
    keep = np.flatnonzero(n)
    with np.errstate(invalid="ignore"):
        mean_p = np.bincount(b, weights=p, minlength=bins) / n
        rate = np.bincount(b, weights=y, minlength=bins) / n
    return pd.DataFrame(
        {
            "bin": keep + 1,
            "bin_lower": keep / bins,
            "bin_upper": (keep + 1) / bins,
            "n": n[keep].astype(np.int64),
            "mean_probability": mean_p[keep],
            "observed_rate": rate[keep],
        }
    )


def expected_calibration_error(table: pd.DataFrame) -> float:
    """ECE of a reliability table: Σ (n_b / N) · |mean_probability_b − observed_rate_b|."""
    n = table["n"].to_numpy(dtype=np.float64)
    gap = np.abs(table["mean_probability"].to_numpy() - table["observed_rate"].to_numpy())
    return float((n * gap).sum() / n.sum()) if n.sum() else float("nan")
