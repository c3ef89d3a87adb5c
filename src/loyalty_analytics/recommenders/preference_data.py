"""What ``PreferenceNN`` trains on, computed from the history: the sufficient statistics of the
purchase head's likelihood over the candidate products (:func:`training_set`), the affiliate
mixture weights ``score`` uses (:func:`mixture_weights`) and, when the warehouse supplied none,
a 0–5 preference score for the preference head (:func:`fallback_preference`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

__all__ = ["TrainingSet", "fallback_preference", "mixture_weights", "training_set"]


def fallback_preference(data) -> pd.DataFrame:
    """A 0–5 preference score when the warehouse did not supply one (tests, other data):
    mean of a buy level (percentile of the line count per affiliate) and a category level
    (percentile of the customer's share of lines in the product's top-level category)."""
    ln = data.lines
    major = data.top_categories()
    g = ln.groupby(["customer_idx", "product_idx", "affiliate_idx"], observed=True).size().rename("n").reset_index()
    g["major"] = major[g["product_idx"].to_numpy()]
    share = g.groupby(["customer_idx", "major"])["n"].transform("sum") / g.groupby("customer_idx")["n"].transform("sum")
    buy_level = np.ceil(g.groupby("affiliate_idx")["n"].rank(pct=True) * 5)
    cat_level = np.ceil(share.groupby(g["affiliate_idx"]).rank(pct=True) * 5)
    g["preference_score"] = ((buy_level + cat_level) / 2).clip(0, 5).astype(np.float64)
    return g[["customer_idx", "product_idx", "affiliate_idx", "preference_score"]]


@dataclass
class TrainingSet:
    """Sufficient statistics of the history that only training reads (not kept after fit)."""

    n_customers: int
    n_products: int
    n_affiliates: int
    lines: sp.csr_matrix  # [C, S] history lines per candidate product (column s = product columns[s])
    lines_aff_top: sp.csr_matrix  # [C, A * n_top] candidate lines per affiliate × top category
    lines_aff: torch.Tensor  # [C, A] candidate lines per affiliate
    n_lines: np.ndarray  # [C] candidate lines per customer
    sold: torch.Tensor  # [A, S] 1.0 where the affiliate sold the candidate product
    pref: tuple  # preference triples (customer, product, affiliate, score)


def training_set(data, candidates: np.ndarray, top: np.ndarray, n_top: int) -> TrainingSet:
    """Candidate history lines per customer (overall, per affiliate, per affiliate × top-level
    category), which affiliate sold which candidate, and the preference triples."""
    ln = data.lines
    C, P, A = data.n_customers, data.n_products, data.n_affiliates
    column = np.full(P, -1, dtype=np.int64)
    column[candidates] = np.arange(len(candidates))
    cust = ln["customer_idx"].to_numpy().astype(np.int64)
    prod = ln["product_idx"].to_numpy().astype(np.int64)
    aff = ln["affiliate_idx"].to_numpy().astype(np.int64)
    on = column[prod] >= 0
    cust, prod, aff = cust[on], prod[on], aff[on]
    ones = np.ones(len(cust), dtype=np.float32)
    lines = sp.csr_matrix((ones, (cust, column[prod])), shape=(C, len(candidates)))
    lines.sum_duplicates()
    lines_aff_top = sp.csr_matrix((ones, (cust, aff * n_top + top[prod])), shape=(C, A * n_top))
    lines_aff_top.sum_duplicates()
    lines_aff = np.zeros((C, A), dtype=np.float32)
    np.add.at(lines_aff, (cust, aff), 1.0)
    sold = np.asarray(data.assortment, dtype=bool)[:, candidates].copy()
    sold[~sold.any(axis=1)] = True  # affiliate without candidate lines: unrestricted

    pref = data.preference if data.preference is not None and len(data.preference) else fallback_preference(data)
    triples = (
        pref["customer_idx"].to_numpy().astype(np.int64),
        pref["product_idx"].to_numpy().astype(np.int64),
        pref["affiliate_idx"].to_numpy().astype(np.int64),
        pref["preference_score"].to_numpy().astype(np.float32),
    )
    return TrainingSet(
        n_customers=C,
        n_products=P,
        n_affiliates=A,
        lines=lines,
        lines_aff_top=lines_aff_top,
        lines_aff=torch.from_numpy(lines_aff),
        n_lines=lines_aff.sum(1),
        sold=torch.from_numpy(sold.astype(np.float32)),
        pref=triples,
    )


def mixture_weights(ln: pd.DataFrame, C: int, A: int, prior_receipts: float) -> torch.Tensor:
    """Receipts (sessions) per affiliate, smoothed with ``prior_receipts`` pseudo-receipts of the
    global shares, × lines per receipt: float [C, A], rows summing to 1."""
    lines_aff = np.zeros((C, A), dtype=np.float64)
    np.add.at(lines_aff, (ln["customer_idx"].to_numpy(), ln["affiliate_idx"].to_numpy()), 1.0)
    visits = ln[["customer_idx", "affiliate_idx", "session_id"]].drop_duplicates()
    receipts = np.zeros((C, A), dtype=np.float64)
    np.add.at(receipts, (visits["customer_idx"].to_numpy(), visits["affiliate_idx"].to_numpy()), 1.0)
    total = receipts.sum(0)
    share = total / total.sum() if total.sum() > 0 else np.full(A, 1.0 / A)
    lines_per_receipt = np.where(total > 0, lines_aff.sum(0) / np.maximum(total, 1.0), 1.0)
    mix = (receipts + prior_receipts * share) / (receipts.sum(1, keepdims=True) + prior_receipts)
    mix = mix * lines_per_receipt
    mix /= mix.sum(1, keepdims=True)
    return torch.from_numpy(mix.astype(np.float32))
