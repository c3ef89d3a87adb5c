"""The network of ``PreferenceNN`` (the estimator, ``preference_nn``): customer and product
embeddings plus whatever customer attributes and product category levels the data has, and the
two heads on the same vectors.

* customer vector ``u_i = e_i + Σ_f attr_f(i)``: a free customer embedding ``e_i`` on top of an
  attribute prior — one embedding per customer attribute (L.Point: sex, age band, region) plus
  the crosses of small attribute pairs (L.Point: sex × age band, as seed 000 had); none at all is
  fine. ``e_i`` starts at zero, so a customer without history *is* the prior;
* product vector ``v_j = e_j + Σ_l category_l(j)`` (one embedding per category level present,
  0 = unknown) and a product bias ``b_j``;
* purchase head: ``p(j | i, a) ∝ exp(u_i·v_j + b_j + θ[a, top(j)])`` per affiliate ``a`` (top(j) =
  the product's top-level category). The per-affiliate normalisers are computed as
  ``exp(u·v + b) @ W`` with ``W[a, j] = exp(θ[a, top(j)])·[a sells j]`` (:func:`log_normalisers`),
  so no [customers, affiliates, products] tensor is ever built;
* preference head (seed 000): ``mu + b'_j + b'_a + MLP([u_i, v_j, u_i*v_j])``, the 0–5
  preference score of a (customer, product, affiliate) triple.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from .torch_utils import FeatureEmbedding

__all__ = ["PreferenceNet", "log_normalisers", "sparse_dot"]


class PreferenceNet(nn.Module):
    def __init__(self, n_customers, n_products, attribute_sizes, category_sizes, n_top, n_affiliates, dim):
        super().__init__()
        self.customer = nn.Embedding(n_customers, dim)
        nn.init.zeros_(self.customer.weight)  # no history -> the attribute prior
        self.attributes = FeatureEmbedding(attribute_sizes, dim)
        self.item = nn.Embedding(n_products, dim)
        nn.init.normal_(self.item.weight, std=0.05)
        self.categories = FeatureEmbedding(category_sizes, dim)
        self.item_bias = nn.Parameter(torch.zeros(n_products))
        self.affiliate_top = nn.Parameter(torch.zeros(n_affiliates, n_top))  # θ[a, top category]
        # preference (regression) head on the fitted vectors: MLP of [u, v, u*v] + biases
        self.reg = nn.Sequential(nn.Linear(3 * dim, 4 * dim), nn.ReLU(), nn.Linear(4 * dim, 1))
        self.reg_item_bias = nn.Parameter(torch.zeros(n_products))
        self.reg_aff_bias = nn.Parameter(torch.zeros(n_affiliates))
        self.reg_mu = nn.Parameter(torch.zeros(()))

    def prior(self, attributes: torch.Tensor) -> torch.Tensor:
        """Attribute part of the customer vector: float [B, dim] (zeros without attributes)."""
        return self.attributes(attributes)

    def products(self, categories: torch.Tensor, pidx: torch.Tensor | None = None) -> torch.Tensor:
        """Product vectors v = product + category embeddings: all products, or ``pidx``."""
        if pidx is None:
            return self.item.weight + self.categories(categories)
        return self.item(pidx) + self.categories(categories[pidx])

    def product_tables(self) -> tuple:
        return self.item.weight, self.categories.table.weight

    def affiliate_weights(self, top: torch.Tensor, sold: torch.Tensor) -> torch.Tensor:
        """W[a, s] = exp(θ[a, top[s]]) · [a sold s]: float [A, S] (``top``: the top-level
        category of each column s)."""
        return torch.exp(self.affiliate_top[:, top]) * sold

    def preference(self, u, v, pidx, aidx):
        return (
            self.reg_mu
            + self.reg_item_bias[pidx]
            + self.reg_aff_bias[aidx]
            + self.reg(torch.cat([u, v, u * v], 1)).squeeze(1)
        )

    def preference_parameters(self) -> list:
        return [*self.reg.parameters(), self.reg_item_bias, self.reg_aff_bias, self.reg_mu]

    def purchase_parameters(self) -> list:
        head = {id(p) for p in self.preference_parameters()}
        return [p for p in self.parameters() if id(p) not in head]


def log_normalisers(base: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """log Z[i, a] = log Σ_j exp(base[i, j]) · weights[a, j] (stable): float [B, A]."""
    top = base.max(1, keepdim=True).values.detach()
    return torch.log(torch.exp(base - top) @ weights.T + 1e-30) + top


def sparse_dot(lines: sp.csr_matrix, base: torch.Tensor) -> torch.Tensor:
    """Σ_ij lines[i, j] · base[i, j] over the non-zero entries only (no dense copy of ``lines``)."""
    coo = lines.tocoo()
    picked = base[torch.from_numpy(coo.row.astype(np.int64)), torch.from_numpy(coo.col.astype(np.int64))]
    return (torch.from_numpy(coo.data.astype(np.float32)) * picked).sum()
