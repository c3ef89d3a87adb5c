"""Seed 000's stamp mission from a fitted model's scores: per customer the top top-level
categories (``category_1``; L.Point: the major category) by mean predicted score over the
products they have not bought yet, and the best unbought products under each.

Batched over customers (tensor algebra per batch, batches sized by the memory budget; the
product → category one-hot is sparse, so thousands of categories cost nothing); the only
Python loop is over the category ranks. Categories left without any unbought product are
dropped and the ranks renumbered; products without a category are never in a mission, and
data without categories gives no rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from .batching import MAX_ROWS, batch_rows
from .data import InteractionData
from .torch_utils import SESSION_LOCK

__all__ = ["stamp_mission"]

COLUMNS = [
    "customer_id",
    "category_rank",
    "category_major",
    "category_mean_score",
    "product_rank",
    "product_code",
    "score",
    "model_name",
]


def stamp_mission(
    model, data: InteractionData, n_categories: int = 5, n_products: int = 4, batch_size: int | None = None
) -> pd.DataFrame:
    """One row per (customer with history, category rank, product rank); ``model`` scores the
    customers of ``data`` (same vocabularies)."""
    majors = torch.as_tensor(data.top_categories())
    n_major = int(majors.max()) + 1 if len(majors) else 1
    if n_major < 2:  # no product has a category
        return _with_codes(_no_rows(), data, model.name)
    one_hot = sp.csr_matrix(
        (np.ones(len(majors), dtype=np.float32), (np.arange(len(majors)), majors.numpy())), shape=(len(majors), n_major)
    )  # [P, categories]
    sold = torch.as_tensor(data.products_sold())
    bought = data.bought_matrix().tocsr()
    has_history = np.flatnonzero(data.has_history())
    step = batch_rows(data.n_products, share=4, max_rows=batch_size or MAX_ROWS)
    parts = []
    with SESSION_LOCK, torch.inference_mode():
        for start in range(0, len(has_history), step):
            idx = has_history[start : start + step]
            scores = torch.as_tensor(np.asarray(model.score(idx)), dtype=torch.float32)
            candidate = sold.unsqueeze(0) & torch.as_tensor(bought[idx].toarray() == 0)
            parts += _batch_rows(idx, scores, candidate, majors, one_hot, min(n_categories, n_major), n_products)
    return _with_codes(pd.concat([_no_rows(), *parts], ignore_index=True), data, model.name)


def _no_rows() -> pd.DataFrame:
    """The columns ``_batch_rows`` produces, without rows."""
    return pd.DataFrame(
        {
            "customer_idx": np.zeros(0, np.int64),
            "category_rank": np.zeros(0, np.int64),
            "major_idx": np.zeros(0, np.int64),
            "category_mean_score": np.zeros(0, np.float32),
            "product_rank": np.zeros(0, np.int64),
            "product_idx": np.zeros(0, np.int64),
            "score": np.zeros(0, np.float32),
        }
    )


def _batch_rows(
    idx: np.ndarray,
    scores: torch.Tensor,
    candidate: torch.Tensor,
    majors: torch.Tensor,
    one_hot: sp.csr_matrix,
    k_cat: int,
    n_products: int,
) -> list[pd.DataFrame]:
    """Top ``k_cat`` categories by mean candidate score, top ``n_products`` candidates in each."""
    masked = torch.where(candidate, scores, torch.zeros_like(scores))
    sums = torch.from_numpy(np.asarray(masked.numpy() @ one_hot, dtype=np.float32))
    counts = torch.from_numpy(np.asarray(candidate.to(torch.float32).numpy() @ one_hot, dtype=np.float32))
    means = torch.where(counts > 0, sums / counts.clamp(min=1), torch.full_like(sums, -torch.inf))
    means[:, 0] = -torch.inf  # code 0 = unknown category
    top_means, top_cats = torch.topk(means, k_cat, dim=1)
    parts = []
    for rank in range(k_cat):
        in_cat = candidate & (majors.unsqueeze(0) == top_cats[:, rank : rank + 1])
        cat_scores = torch.where(in_cat, scores, torch.full_like(scores, -torch.inf))
        top_scores, top_products = torch.topk(cat_scores, n_products, dim=1)
        valid = torch.isfinite(top_scores) & torch.isfinite(top_means[:, rank : rank + 1])
        rows, cols = torch.nonzero(valid, as_tuple=True)
        parts.append(
            pd.DataFrame(
                {
                    "customer_idx": idx[rows.numpy()],
                    "category_rank": rank + 1,
                    "major_idx": top_cats[rows, rank].numpy(),
                    "category_mean_score": top_means[rows, rank].numpy(),
                    "product_rank": cols.numpy() + 1,
                    "product_idx": top_products[rows, cols].numpy(),
                    "score": top_scores[rows, cols].numpy(),
                }
            )
        )
    return parts


def _with_codes(result: pd.DataFrame, data: InteractionData, model_name: str) -> pd.DataFrame:
    """Dense category ranks per customer, indices replaced by ids and category names."""
    result = result.sort_values(["customer_idx", "category_rank", "product_rank"], kind="stable")
    result["category_rank"] = result.groupby("customer_idx")["category_rank"].rank(method="dense").astype(np.int32)
    result["customer_id"] = data.customer_ids[result["customer_idx"].to_numpy()]
    result["product_code"] = data.product_codes[result["product_idx"].to_numpy()]
    levels = np.asarray(next(iter(data.category_levels.values()), []), dtype=object)
    result["category_major"] = levels[result["major_idx"].to_numpy() - 1]
    result["model_name"] = model_name
    return result[COLUMNS].reset_index(drop=True)
