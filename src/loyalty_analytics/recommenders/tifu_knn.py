"""TIFU-KNN (Hu, He, Gao & Zhang, SIGIR 2020), a baseline (``'tifu_knn'``, in
``baselines.default_baselines``): time- and group-decayed basket frequencies of the customer
(:func:`tifu_user_vectors`) mixed with those of the nearest customers by cosine similarity
(:func:`nearest_customers`); formulas in :class:`TIFUKNNRecommender`."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .base import RecommenderBase, pack_csr, unpack_csr
from .baselines import customer_rows, popularity_vector, row_chunks
from .data import InteractionData

__all__ = ["TIFUKNNRecommender", "nearest_customers", "tifu_user_vectors"]


class TIFUKNNRecommender(RecommenderBase):
    """TIFU-KNN (Hu, He, Gao & Zhang, SIGIR 2020): temporal item frequency + user kNN.

    A customer's baskets (the lines' sessions / receipts) b_1 … b_n, oldest first, are binary
    product vectors. They are grouped from the most recent backwards into groups of
    ``group_size`` (m) baskets — k = ⌈n/m⌉ groups, only the oldest one may hold fewer. With the
    baskets of group i in time order b_i1 … b_i|G_i|:

        group vector  g_i = (1/|G_i|) Σ_j r_b^(|G_i| − j) · b_ij      (r_b = ``within_decay``)
        user vector   u   = (1/k)     Σ_i r_g^(k − i)     · g_i       (r_g = ``group_decay``)

    prediction = α·u + (1 − α)·(mean of the user vectors of the ``n_neighbors`` nearest
    customers by cosine similarity of u), α = ``alpha``. Everything is sparse: user vectors
    csr [customers, products], neighbours an index table; the similarity is computed for
    budget-sized blocks of customers. Products neither the customer nor the neighbours bought
    follow in popularity order; customers without history get popularity.

    The authors' published code and cornac split the history into m groups of about equal
    size instead (and decay baskets over the whole history); this class follows the paper's
    formulas above. Defaults: the paper's / authors' command line (r_b 0.9, r_g 0.7, α 0.7,
    m 7) except k = 100 neighbours instead of 300, chosen on the inner time splits of the
    generated, Complete Journey and Online Retail data (docs/recommenders.md)."""

    name = "tifu_knn"

    def __init__(
        self,
        n_neighbors: int = 100,
        within_decay: float = 0.9,
        group_decay: float = 0.7,
        group_size: int = 7,
        alpha: float = 0.7,
        random_state: int = 0,
    ):
        self.n_neighbors = n_neighbors
        self.within_decay = within_decay
        self.group_decay = group_decay
        self.group_size = group_size
        self.alpha = alpha
        self.random_state = random_state

    def _fit(self, data: InteractionData) -> None:
        self.user_vectors_ = tifu_user_vectors(data, self.within_decay, self.group_decay, self.group_size)
        self.neighbors_ = nearest_customers(self.user_vectors_, self.n_neighbors)
        self.pop_ = popularity_vector(data).astype(np.float32)

    def _weights(self) -> dict:
        return {"neighbors": self.neighbors_, "pop": self.pop_, **pack_csr("user_vectors", self.user_vectors_)}

    def _set_weights(self, weights: dict) -> None:
        self.neighbors_, self.pop_ = weights["neighbors"], weights["pop"]
        self.user_vectors_ = unpack_csr("user_vectors", weights)

    def predict_vectors(self, customer_idx: np.ndarray) -> sp.csr_matrix:
        """csr [len(customer_idx), P]: α·u + (1 − α)·mean of the neighbours' u, as one sparse
        product (weights α on the customer's own row, (1 − α)/k on each neighbour's)."""
        idx = customer_rows(customer_idx)
        neighbors = self.neighbors_[idx]
        valid = neighbors >= 0
        k = max(neighbors.shape[1], 1)
        rows = np.concatenate([np.arange(len(idx)), np.nonzero(valid)[0]])
        cols = np.concatenate([idx, neighbors[valid]])
        weights = np.concatenate([np.full(len(idx), self.alpha), np.full(int(valid.sum()), (1.0 - self.alpha) / k)])
        weights = weights.astype(self.user_vectors_.dtype)
        mix = sp.csr_matrix((weights, (rows, cols)), shape=(len(idx), self.user_vectors_.shape[0]))
        return (mix @ self.user_vectors_).tocsr()

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        idx = customer_rows(customer_idx)
        # products neither the customer nor the neighbours bought: popularity order, below the others
        out = np.zeros((len(idx), len(self.pop_)), dtype=np.float32)
        for rows in row_chunks(len(idx), out.shape[1]):
            block = out[rows]
            self.predict_vectors(idx[rows]).toarray(out=block)
            np.copyto(block, self.pop_[None, :] - 1.0, where=block <= 0)
        return out


def tifu_user_vectors(data: InteractionData, within_decay: float, group_decay: float, group_size: int) -> sp.csr_matrix:
    """csr [C, P] float32 TIFU-KNN user vectors (formulas in TIFUKNNRecommender; weights
    computed in float64)."""
    ln = data.lines
    session = ln["session_id"].to_numpy().astype(np.int64)
    customer = ln["customer_idx"].to_numpy().astype(np.int64)
    sessions, first = np.unique(session, return_index=True)
    s_customer = customer[first]
    # position of each basket counted from the customer's most recent one (0 = last basket)
    order = np.lexsort((sessions, s_customer))
    n_baskets = np.bincount(s_customer, minlength=data.n_customers)
    ends = np.cumsum(n_baskets)[s_customer[order]]
    back = np.empty(len(sessions), dtype=np.int64)
    back[order] = ends - 1 - np.arange(len(sessions))
    n = n_baskets[s_customer]
    m = int(group_size)
    n_groups = -(-n // m)
    group_back = back // m  # 0 = the most recent group
    group_len = np.where(group_back < n_groups - 1, m, n - (n_groups - 1) * m)
    weight = (np.power(within_decay, back % m) / group_len) * (np.power(group_decay, group_back) / n_groups)
    # one entry per distinct (basket, product)
    entry = np.unique(session * np.int64(data.n_products) + ln["product_idx"].to_numpy().astype(np.int64))
    e_session, e_product = entry // data.n_products, entry % data.n_products
    pos = np.searchsorted(sessions, e_session)
    vectors = sp.csr_matrix((weight[pos], (s_customer[pos], e_product)), shape=(data.n_customers, data.n_products))
    vectors.sum_duplicates()
    vectors.sort_indices()
    return vectors.astype(np.float32)


def nearest_customers(vectors: sp.csr_matrix, n_neighbors: int) -> np.ndarray:
    """int64 [C, k]: for every customer with a non-zero vector, the k other such customers
    with the highest cosine similarity (ties: lower index first); −1 rows for the others.
    k = min(n_neighbors, active customers − 1). Similarities are computed for blocks of
    customers that fit the memory budget (no [C, C] matrix)."""
    import torch

    from .topk import stable_topk

    norms = np.sqrt(np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel())
    active = np.flatnonzero(norms > 0)
    k = int(max(0, min(n_neighbors, len(active) - 1)))
    out = np.full((vectors.shape[0], k), -1, dtype=np.int64)
    if k == 0:
        return out
    unit = sp.diags(1.0 / norms[active]) @ vectors[active]
    unit_t = unit.T.tocsr()
    for rows in row_chunks(len(active), len(active)):
        sim = (unit[rows] @ unit_t).toarray()
        sim[np.arange(sim.shape[0]), np.arange(len(active))[rows]] = -np.inf  # not one's own neighbour
        top = stable_topk(torch.from_numpy(sim), k).numpy()
        out[active[rows]] = active[top]
    return out
