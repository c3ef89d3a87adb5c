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
  C_ij < min_cooccurrence are dropped, the diagonal (i→i) is zero, and only the
  ``max_neighbors`` strongest rules per source product i are kept (a sparse R; co-counts are
  computed block by block, never as a dense P × P matrix). score_u(j) = Σ_{i bought by u}
  rule(i→j), computed as X[batch] @ R (sparse × sparse), + 1e-6 · popularity.
* ``tifu_knn.TIFUKNNRecommender`` ('tifu_knn', its own module, built on this one's helpers):
  TIFU-KNN (Hu et al., SIGIR 2020), time- and group-decayed basket frequencies mixed with the
  customer's nearest neighbours' (see the class).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from . import batching
from .base import RecommenderBase, pack_csr, unpack_csr
from .batching import batch_rows
from .data import InteractionData

__all__ = [
    "PopularityRecommender",
    "AffiliatePopularityRecommender",
    "PersonalFrequencyRecommender",
    "ALSRecommender",
    "CooccurrenceRecommender",
    "cooccurrence_rules",
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


def customer_rows(customer_idx) -> np.ndarray:
    """Customer indices as a flat int64 array (what every ``score`` indexes with)."""
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
        idx = customer_rows(customer_idx)
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
        idx = customer_rows(customer_idx)
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
        idx = customer_rows(customer_idx)
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
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

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
        return {
            "user_factors": self.user_factors_,
            "item_factors": self.item_factors_,
            "tie": self.tie_,
            "pop": self.pop_,
            "has_history": self.has_history_,
        }

    def _set_weights(self, weights: dict) -> None:
        self.user_factors_, self.item_factors_ = weights["user_factors"], weights["item_factors"]
        self.tie_, self.pop_, self.has_history_ = weights["tie"], weights["pop"], weights["has_history"]

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        idx = customer_rows(customer_idx)
        s = self.user_factors_[idx] @ self.item_factors_.T + self.tie_[None, :]
        cold = ~self.has_history_[idx]
        if cold.any():
            s[cold] = self.pop_[None, :]
        return s.astype(np.float32, copy=False)


class CooccurrenceRecommender(RecommenderBase):
    name = "cooccurrence"

    def __init__(
        self, measure: str = "confidence", min_cooccurrence: int = 2, max_neighbors: int = 200, random_state: int = 0
    ):
        if measure not in ("lift", "confidence"):
            raise ValueError("measure must be 'lift' or 'confidence'")
        self.measure = measure
        self.min_cooccurrence = min_cooccurrence
        self.max_neighbors = max_neighbors
        self.random_state = random_state

    def _fit(self, data: InteractionData) -> None:
        x = data.bought_matrix().copy()
        x.data[:] = 1.0
        self.x_ = x.astype(np.float32).tocsr()
        self.rules_ = cooccurrence_rules(self.x_, self.measure, self.min_cooccurrence, self.max_neighbors)
        self.tie_ = (1e-6 * popularity_vector(data)).astype(np.float32)

    def _weights(self) -> dict:
        return {"tie": self.tie_, **pack_csr("rules", self.rules_), **pack_csr("x", self.x_)}

    def _set_weights(self, weights: dict) -> None:
        self.tie_, self.x_, self.rules_ = weights["tie"], unpack_csr("x", weights), unpack_csr("rules", weights)

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        idx = customer_rows(customer_idx)
        out = np.empty((len(idx), self.rules_.shape[1]), dtype=np.float32)
        for rows in row_chunks(len(idx), out.shape[1]):
            out[rows] = (self.x_[idx[rows]] @ self.rules_).toarray()
        return out + self.tie_[None, :]


def cooccurrence_rules(
    x: sp.csr_matrix, measure: str, min_cooccurrence: int, max_neighbors: int | None, budget: int | None = None
) -> sp.csr_matrix:
    """csr [P, P] float32 of the association rules i→j (see the module doc), the strongest
    ``max_neighbors`` per source product i (ties: lower j first; None = all). Co-counts are
    computed for blocks of source products whose co-count entries fit ``budget``, so the
    dense P × P matrix (19 GB at 68,500 products) is never built."""
    budget = budget or batching.SCORE_BUDGET
    x = x.tocsr()
    n_products = x.shape[1]
    xt = x.T.tocsr()  # [P, C]: the buyers of each product
    buyers = np.asarray(x.getnnz(axis=0), dtype=np.float64)
    n = max(int((x.getnnz(axis=1) > 0).sum()), 1)
    # upper bound of a product's co-count entries: the distinct products of its buyers
    width = xt @ np.asarray(x.getnnz(axis=1), dtype=np.float64)
    parts = []
    for block in _blocks_by_cost(width, budget):
        co = (xt[block] @ x).tocsr()  # [block, P] co-counts
        at = np.flatnonzero(co.data >= min_cooccurrence)  # filter before anything touches every entry
        row = np.searchsorted(co.indptr, at, side="right").astype(np.int64) - 1 + block.start
        col, count = co.indices[at].astype(np.int64), co.data[at].astype(np.int64)
        del co
        keep = row != col
        row, col, count = row[keep], col[keep], count[keep]
        parts.append(_strongest_rules(row, col, count, buyers, n, measure, max_neighbors, n_products))
    row, col, value = (np.concatenate(arrays) for arrays in zip(*parts, strict=True)) if parts else ([], [], [])
    rules = sp.csr_matrix((np.asarray(value, dtype=np.float32), (row, col)), shape=(n_products, n_products))
    rules.sort_indices()
    return rules


def _strongest_rules(row, col, count, buyers, n, measure, k, n_products):
    """The rules (row, col, value) of one block, the ``k`` strongest per source row (ties:
    lower column first; None = all). Confidence ranks a row like its co-counts, so one integer
    sort does it; lift needs the values."""
    if measure == "confidence":
        value = count / buyers[row]
        if k is None:
            return row, col, value
        top = int(count.max(initial=0)) + 1
        order = np.argsort(((row - row.min(initial=0)) * top + (top - 1 - count)) * n_products + col)
    else:
        value = n * count / (buyers[row] * buyers[col])
        if k is None:
            return row, col, value
        order = np.lexsort((col, -value, row))
    row, col, value = row[order], col[order], value[order]
    per_row = np.bincount(row - row.min(initial=0))
    rank = np.arange(len(row)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
    keep = rank < k
    return row[keep], col[keep], value[keep]


def _blocks_by_cost(cost: np.ndarray, budget: int) -> list[slice]:
    """Consecutive slices of rows whose summed ``cost`` stays within ``budget`` (≥ 1 row each)."""
    blocks, start, total = [], 0, 0.0
    for end, c in enumerate(cost):
        if end > start and total + c > budget:
            blocks.append(slice(start, end))
            start, total = end, 0.0
        total += c
    if start < len(cost):
        blocks.append(slice(start, len(cost)))
    return blocks


def row_chunks(n_rows: int, n_columns: int) -> list[slice]:
    """Slices of ``n_rows`` whose dense [rows, n_columns] blocks fit the memory budget."""
    step = batch_rows(n_columns)
    return [slice(start, start + step) for start in range(0, n_rows, step)]


def default_baselines(random_state: int = 0) -> list:
    """The baseline set evaluated side by side with the neural models (unfitted)."""
    from .tifu_knn import TIFUKNNRecommender  # imported here: tifu_knn builds on this module's helpers

    return [
        PopularityRecommender(random_state=random_state),
        AffiliatePopularityRecommender(random_state=random_state),
        PersonalFrequencyRecommender(random_state=random_state),
        ALSRecommender(random_state=random_state),
        CooccurrenceRecommender(random_state=random_state),
        TIFUKNNRecommender(random_state=random_state),
    ]
