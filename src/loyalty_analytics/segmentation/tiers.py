"""Seed 004's tiers (scikit-learn conventions): quartile scores 1..4 of R, F, M, T and CLV,
weighted by the importances of a classifier predicting the RFM+T+CLV KMeans segment; tier by
the weighted score. Stored as long rows (:meth:`TierModel.to_params`). Definitions and the
rounding story: docs/segmentation.md, "Tiers"."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from loyalty_analytics.segmentation.features import MODEL_NAMES
from loyalty_analytics.segmentation.kmeans import PARAMS_COLUMNS

TIER_FEATURES = {
    "recency": "days_since_last_purchase",
    "frequency": "frequency",
    "monetary": "monetary_value",
    "T": "T",
    "clv": "clv_3m",
}
TIER_DIRECTION = {"recency": -1, "frequency": 1, "monetary": 1, "T": 1, "clv": 1}  # -1: smaller is better
TIER_SCORE_DECIMALS = 6  # tier_score precision: see weighted_tier_score
TIER_CUTOFFS = [("VIP", 3.25), ("Gold", 2.75), ("Silver", 2.25), ("Bronze", 1.75), ("At Risk", -np.inf)]
QUARTILES = (25, 50, 75)


def weighted_tier_score(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted mean of the 1..4 scores (rows of ``scores``), rounded to TIER_SCORE_DECIMALS: the
    exact mean to that precision, so it lies within [1, 4] and a score equal to a tier cut is
    compared as that number (float error of the sum is below 1e-14; docs/segmentation.md)."""
    weights = weights / weights.sum()
    # column by column rather than a BLAS product: the summation order never depends on threads
    total = np.zeros(len(scores))
    for j, w in enumerate(weights):
        total += w * scores[:, j]
    return np.round(total, TIER_SCORE_DECIMALS)


def tier_from_score(score) -> np.ndarray:
    score = np.asarray(score, dtype=float)
    out = np.full(score.shape, TIER_CUTOFFS[-1][0], dtype=object)
    for name, cut in reversed(TIER_CUTOFFS[:-1]):
        out[score >= cut] = name
    return out


def tier_rank(tier_name: str) -> int:
    """1 = VIP … 5 = At Risk: the tier's segment_id in profiles."""
    return [name for name, _ in TIER_CUTOFFS].index(tier_name) + 1


def _oriented(df: pd.DataFrame, name: str) -> np.ndarray:
    """The tier variable with its direction applied: larger is always better."""
    values = pd.to_numeric(df[TIER_FEATURES[name]], errors="coerce").fillna(0).to_numpy(dtype=float)
    return TIER_DIRECTION[name] * values


class TierModel(BaseEstimator):
    """Learned: ``cuts_`` (name -> quartile cuts of the oriented variable), ``weights_`` (name ->
    importance, sum 1, in TIER_FEATURES order), ``classifier_oob_accuracy_``, ``fit_seconds_``."""

    def __init__(
        self,
        random_state: int = 42,
        max_train: int = 10000,
        n_estimators: int = 100,
        max_depth: int = 8,
        min_samples_leaf: int = 5,
    ):
        self.random_state = random_state
        self.max_train = max_train
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf

    def fit(self, df: pd.DataFrame, target) -> TierModel:
        """Quartile cuts on ``df`` + RandomForest importances predicting ``target`` (the segment)
        on at most ``max_train`` customers."""
        from sklearn.ensemble import RandomForestClassifier

        started = time.perf_counter()
        names = [n for n, c in TIER_FEATURES.items() if c in df.columns]
        x = np.column_stack([_oriented(df, n) for n in names])
        target = np.asarray(target)
        idx = np.arange(len(x))
        if len(idx) > self.max_train:
            idx = np.sort(np.random.default_rng(self.random_state).choice(len(x), self.max_train, replace=False))
        if len(np.unique(target[idx])) > 1:
            rf = RandomForestClassifier(
                n_estimators=self.n_estimators,
                max_depth=self.max_depth,
                min_samples_leaf=self.min_samples_leaf,
                oob_score=True,
                random_state=self.random_state,
                n_jobs=1,
            ).fit(x[idx], target[idx])
            importances, oob = rf.feature_importances_, float(rf.oob_score_)
        else:
            importances, oob = np.ones(len(names)), float("nan")
        importances = importances / importances.sum()
        self.cuts_ = {n: tuple(np.quantile(x[:, j], [q / 100 for q in QUARTILES])) for j, n in enumerate(names)}
        self.weights_ = dict(zip(names, map(float, importances), strict=True))
        self.classifier_oob_accuracy_ = oob
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def scores(self, df: pd.DataFrame) -> pd.DataFrame:
        """Per row: <name>_score (1 + number of cuts the value exceeds), tier_score, tier."""
        out = {
            f"{n}_score": 1 + (_oriented(df, n)[:, None] > np.asarray(self.cuts_[n])[None, :]).sum(axis=1)
            for n in self.weights_
        }
        s = pd.DataFrame(out, index=df.index)
        names = list(self.weights_)
        s["tier_score"] = weighted_tier_score(
            s[[f"{n}_score" for n in names]].to_numpy(dtype=float),
            np.array([self.weights_[n] for n in names], dtype=float),
        )
        s["tier"] = tier_from_score(s["tier_score"].to_numpy())
        return s

    def to_params(self) -> pd.DataFrame:
        """Long rows: hyper-parameters, quartile cuts in the variable's own units (``<name>_q25``
        …), weights, the classifier's out-of-bag accuracy and the fit seconds."""
        name = MODEL_NAMES["tier"]
        rows = [(name, "hyperparameter", None, h, float(v), None) for h, v in self.get_params().items()]
        for n, cuts in self.cuts_.items():
            rows += [
                (name, "quartile_cut", None, f"{n}_q{q}", TIER_DIRECTION[n] * v, None)
                for q, v in zip(QUARTILES, cuts, strict=True)
            ]
        rows += [(name, "weight", None, n, w, None) for n, w in self.weights_.items()]
        rows += [
            (name, "classifier_oob_accuracy", None, None, self.classifier_oob_accuracy_, None),
            (name, "fit_seconds", None, None, self.fit_seconds_, None),
        ]
        return pd.DataFrame(rows, columns=PARAMS_COLUMNS).astype({"segment_id": "Int64"})

    @classmethod
    def from_params(cls, params: pd.DataFrame) -> TierModel:
        """The tier model its rows store (any row order; missing hyper-parameters get defaults)."""

        def by_key(component: str) -> pd.Series:
            return params[params["component"] == component].set_index("key")["value"]

        hyper = by_key("hyperparameter")
        model = cls(**{h: int(v) for h, v in hyper.items()})
        weights, cuts = by_key("weight"), by_key("quartile_cut")
        names = [n for n in TIER_FEATURES if n in weights.index]  # the fitted order: it sets the summation order
        model.weights_ = {n: float(weights[n]) for n in names}
        model.cuts_ = {n: tuple(TIER_DIRECTION[n] * float(cuts[f"{n}_q{q}"]) for q in QUARTILES) for n in names}
        accuracy = params.loc[params["component"] == "classifier_oob_accuracy", "value"]
        model.classifier_oob_accuracy_ = float(accuracy.iloc[0]) if len(accuracy) else float("nan")
        fit_seconds = params.loc[params["component"] == "fit_seconds", "value"]
        model.fit_seconds_ = float(fit_seconds.iloc[0]) if len(fit_seconds) else float("nan")
        return model
