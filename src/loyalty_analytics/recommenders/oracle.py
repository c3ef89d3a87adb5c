"""Oracle recommender for generated data: scores = the generator's planted purchase
probabilities after the cut (an upper reference for every model, never a production model).

Wraps ``loyalty_analytics.generator.oracle.oracle_scores(truth_dir, customer_ids,
product_codes, cutoff, horizon_end) -> float32 [n_customers, n_products]`` (imported lazily,
so this module imports even when the generator is absent). ``oracle_fn`` lets tests inject a
fake with the same signature.

Not a stored model (no ``save`` / ``load``, no registry row): it learns nothing from the
history — ``fit`` only records the vocabularies and the cut — and its scores come from the
generator's truth files, which exist only for generated data and would be meaningless, or
leak the truth, anywhere else. It is rebuilt from ``truth_dir`` whenever it is evaluated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .data import InteractionData, to_date

__all__ = ["OracleRecommender"]


class OracleRecommender:
    name = "oracle"

    def __init__(self, truth_dir: str | Path, horizon_end, oracle_fn: Callable | None = None):
        self.truth_dir = Path(truth_dir)
        self.horizon_end: dt.date = to_date(horizon_end)
        self._oracle_fn = oracle_fn

    def _fn(self) -> Callable:
        if self._oracle_fn is None:
            from loyalty_analytics.generator.oracle import oracle_scores

            self._oracle_fn = oracle_scores
        return self._oracle_fn

    def fit(self, data: InteractionData) -> OracleRecommender:
        self.customer_ids_ = data.customer_ids
        self.product_codes_ = data.product_codes
        self.cutoff_ = data.cut_date
        self._fn()  # fail early when the generator's oracle is unavailable
        return self

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        idx = np.asarray(customer_idx, dtype=np.int64).ravel()
        out = self._fn()(self.truth_dir, self.customer_ids_[idx], self.product_codes_, self.cutoff_, self.horizon_end)
        out = np.asarray(out, dtype=np.float32)
        if out.shape != (len(idx), len(self.product_codes_)):
            expected = (len(idx), len(self.product_codes_))
            raise ValueError(f"oracle_scores returned shape {out.shape}, expected {expected}")
        return out
