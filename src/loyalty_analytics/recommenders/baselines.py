"""Baseline recommenders (all implement the ``Recommender`` protocol of ``data``).

Every ``score`` returns float32 [len(customer_idx), n_products]; higher = more likely to be
bought after the cut. Ties are broken by a tiny global-popularity term so that rankings are
deterministic and sensible (popularity = number of distinct history buyers, then history
line count).

* ``PopularityRecommender`` ('popularity'): the same global popularity vector for everyone.
* ``AffiliatePopularityRecommender`` ('popularity_affiliate'): Σ_a share_i(a) · pop_a(j)
  where share_i = the customer's share of history lines per affiliate (global shares for
  customers without history) and pop_a = per-affiliate buyer counts normalised to sum 1.
* ``PersonalFrequencyRecommender`` ('personal_frequency'): the customer's own history line
  count of the product (or, with ``half_life_days``, Σ 0.5^(age_days / half_life) over the
  lines), plus 1e-3 · normalised popularity (< any personal score, so never-bought products
  follow in popularity order).
* ``ALSRecommender`` ('als'): implicit-feedback ALS (Hu, Koren & Volinsky 2008) with
  ``implicit``; confidence c_ui = 1 + alpha · count_ui (passed to implicit as the matrix
  values with implicit's own alpha = 1, since implicit uses the matrix value itself as the
  confidence); seed 001 defaults factors 20, regularization 0.1, iterations 30, alpha 15;
  random_state passed to implicit; single-threaded by default (num_threads=1, BLAS limited to 1 thread)
  so results are bit-reproducible. score = user_factors · item_factorsᵀ (+ 1e-6 · popularity
  tie-break); customers without history get plain popularity.
* ``CooccurrenceRecommender`` ('cooccurrence', default measure 'confidence' — lift
  over-weights rare products and ranked worse than popularity on the synthetic data):
  association rules over customer baskets
  (binary customer × product matrix X, co-counts C = XᵀX, N = customers with history):
  confidence(i→j) = C_ij / C_ii, lift(i→j) = N · C_ij / (C_ii · C_jj); pairs with
  C_ij < min_cooccurrence are dropped, the diagonal (i→i) is zero. score_u(j) = Σ_{i bought
  by u} rule(i→j), computed as X[batch] @ R (sparse × dense), + 1e-6 · popularity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .base import RecommenderBase, pack_csr, unpack_csr
from .data import InteractionData

__all__ = [
    "PopularityRecommender",
    "AffiliatePopularityRecommender",
    "PersonalFrequencyRecommender",
    "ALSRecommender",
    "CooccurrenceRecommender",
    "popularity_vector",
    "default_baselines",
]


def popularity_vector(data: InteractionData) -> np.ndarray:
    """float64 [n_products] in [0, 1): distinct buyers + line-count tie-break, normalised."""
    b = data.bought_matrix()
    buyers = np.asarray(b.getnnz(axis=0), dtype=np.float64)
    lines = np.asarray(b.sum(axis=0), dtype=np.float64).ravel()
    raw = buyers + lines / (lines.max() + 1.0) if len(lines) else buyers
    return raw / (raw.max() + 1.0)


def _idx(customer_idx) -> np.ndarray:
    return np.asarray(customer_idx, dtype=np.int64).ravel()


class PopularityRecommender(RecommenderBase):
    name = "popularity"

    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    def _fit(self, data: InteractionData) -> None:
        self.pop_ = popularity_vector(data).astype(np.float32)

    def _weights(self) -> dict:
        return {"pop": self.pop_}

    def _set_weights(self, weights: dict) -> None:
        self.pop_ = weights["pop"]

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        idx = _idx(customer_idx)
        return np.broadcast_to(self.pop_, (len(idx), len(self.pop_))).copy()


class AffiliatePopularityRecommender(RecommenderBase):
    name = "popularity_affiliate"

    def __init__(self, random_state: int = 0):
        self.random_state = random_state

    def _fit(self, data: InteractionData) -> None:
        pop = popularity_vector(data)
        aff_pop = np.zeros((data.n_affiliates, data.n_products), dtype=np.float64)
        for a, m in enumerate(data.bought_at_affiliate()):
            aff_pop[a] = m.getnnz(axis=0)
        aff_pop /= np.maximum(aff_pop.sum(axis=1, keepdims=True), 1.0)
        cnt = data.customer_affiliate_counts()
        tot = cnt.sum(axis=1, keepdims=True)
        global_share = cnt.sum(axis=0) / max(cnt.sum(), 1.0)
        self.share_ = np.where(tot > 0, cnt / np.maximum(tot, 1.0), global_share[None, :]).astype(np.float32)
        self.aff_pop_ = aff_pop.astype(np.float32)
        self.tie_ = (1e-6 * pop).astype(np.float32)

    def _weights(self) -> dict:
        return {"share": self.share_, "aff_pop": self.aff_pop_, "tie": self.tie_}

    def _set_weights(self, weights: dict) -> None:
        self.share_, self.aff_pop_, self.tie_ = weights["share"], weights["aff_pop"], weights["tie"]

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        idx = _idx(customer_idx)
        return self.share_[idx] @ self.aff_pop_ + self.tie_[None, :]


class PersonalFrequencyRecommender(RecommenderBase):
    name = "personal_frequency"

    def __init__(self, half_life_days: float | None = None, random_state: int = 0):
        self.half_life_days = half_life_days
        self.random_state = random_state

    def _fit(self, data: InteractionData) -> None:
        self.pop_ = (1e-3 * popularity_vector(data)).astype(np.float32)
        if self.half_life_days is None:
            self.counts_ = data.bought_matrix().astype(np.float32).tocsr()
        else:
            ln = data.lines
            end = pd.Timestamp(data.cut_date) + pd.Timedelta(days=1)
            age = (end - ln["purchased_at"]).dt.total_seconds().to_numpy() / 86400.0
            w = np.power(0.5, age / float(self.half_life_days))
            m = sp.csr_matrix(
                (w, (ln["customer_idx"].to_numpy(), ln["product_idx"].to_numpy())),
                shape=(data.n_customers, data.n_products),
            )
            m.sum_duplicates()
            self.counts_ = m.astype(np.float32).tocsr()

    def _weights(self) -> dict:
        return {"pop": self.pop_, **pack_csr("counts", self.counts_)}

    def _set_weights(self, weights: dict) -> None:
        self.pop_, self.counts_ = weights["pop"], unpack_csr("counts", weights)

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        idx = _idx(customer_idx)
        return self.counts_[idx].toarray() + self.pop_[None, :]


class ALSRecommender(RecommenderBase):
    name = "als"

    def __init__(
        self,
        factors: int = 20,
        regularization: float = 0.1,
        iterations: int = 30,
        alpha: float = 15.0,
        num_threads: int = 1,
        use_cg: bool = True,
        random_state: int = 0,
    ):
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.alpha = alpha
        self.num_threads = num_threads
        self.use_cg = use_cg
        self.random_state = random_state

    def _fit(self, data: InteractionData) -> None:
        from threadpoolctl import threadpool_limits
        from implicit.cpu.als import AlternatingLeastSquares

        counts = data.bought_matrix().astype(np.float32).tocsr()
        conf = counts.copy()
        conf.data = (1.0 + self.alpha * conf.data).astype(np.float32)
        # BLAS limited to one thread (implicit parallelises itself; its constructor warns otherwise).
        # The limit is process-wide (torch's BLAS too): fits run one at a time (RecommenderBase.fit).
        with threadpool_limits(limits=1, user_api="blas"):
            model = AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=1.0,
                iterations=self.iterations,
                use_cg=self.use_cg,
                num_threads=self.num_threads,
                random_state=self.random_state,
                calculate_training_loss=False,
            )
            model.fit(conf, show_progress=False)
        self.user_factors_ = np.ascontiguousarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.ascontiguousarray(model.item_factors, dtype=np.float32)
        pop = popularity_vector(data)
        self.tie_ = (1e-6 * pop).astype(np.float32)
        self.pop_ = pop.astype(np.float32)
        self.has_history_ = data.has_history()

    def _weights(self) -> dict:
        return {"user_factors": self.user_factors_, "item_factors": self.item_factors_, "tie": self.tie_,
                "pop": self.pop_, "has_history": self.has_history_}

    def _set_weights(self, weights: dict) -> None:
        self.user_factors_, self.item_factors_ = weights["user_factors"], weights["item_factors"]
        self.tie_, self.pop_, self.has_history_ = weights["tie"], weights["pop"], weights["has_history"]

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        idx = _idx(customer_idx)
        s = self.user_factors_[idx] @ self.item_factors_.T + self.tie_[None, :]
        cold = ~self.has_history_[idx]
        if cold.any():
            s[cold] = self.pop_[None, :]
        return s.astype(np.float32, copy=False)


class CooccurrenceRecommender(RecommenderBase):
    name = "cooccurrence"

    def __init__(self, measure: str = "confidence", min_cooccurrence: int = 2, random_state: int = 0):
        if measure not in ("lift", "confidence"):
            raise ValueError("measure must be 'lift' or 'confidence'")
        self.measure = measure
        self.min_cooccurrence = min_cooccurrence
        self.random_state = random_state

    def _fit(self, data: InteractionData) -> None:
        x = data.bought_matrix().copy()
        x.data[:] = 1.0
        x = x.astype(np.float32).tocsr()
        c = (x.T @ x).toarray().astype(np.float64)  # [P, P] co-counts (customers)
        diag = np.diag(c).copy()
        n = max(int((x.getnnz(axis=1) > 0).sum()), 1)
        c[c < self.min_cooccurrence] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.measure == "confidence":
                r = c / diag[:, None]
            else:
                r = n * c / (diag[:, None] * diag[None, :])
        r[~np.isfinite(r)] = 0.0
        np.fill_diagonal(r, 0.0)
        self.rules_ = r.astype(np.float32)
        self.x_ = x
        self.tie_ = (1e-6 * popularity_vector(data)).astype(np.float32)

    def _weights(self) -> dict:
        # the rules matrix is mostly zeros after min_cooccurrence: stored sparse, exact on load
        return {"tie": self.tie_, **pack_csr("rules", sp.csr_matrix(self.rules_)), **pack_csr("x", self.x_)}

    def _set_weights(self, weights: dict) -> None:
        self.tie_, self.x_ = weights["tie"], unpack_csr("x", weights)
        self.rules_ = unpack_csr("rules", weights).toarray()

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        idx = _idx(customer_idx)
        s = np.asarray(self.x_[idx] @ self.rules_, dtype=np.float32)
        return s + self.tie_[None, :]


def default_baselines(random_state: int = 0) -> list:
    """The baseline set evaluated side by side with the neural models (unfitted)."""
    return [
        PopularityRecommender(random_state=random_state),
        AffiliatePopularityRecommender(random_state=random_state),
        PersonalFrequencyRecommender(random_state=random_state),
        ALSRecommender(random_state=random_state),
        CooccurrenceRecommender(random_state=random_state),
    ]
