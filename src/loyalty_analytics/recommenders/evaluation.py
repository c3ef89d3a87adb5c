"""Time-split evaluation of recommenders: HR@K, nDCG@K, recall@K, precision@K and AUC.

Setup: the models are fitted on the history (lines up to and including ``data.cut_date``);
``truth`` holds the distinct (customer_idx, product_idx) bought after the cut.

Splits (column ``split``):

* ``all_items`` — candidates = every product; relevant = every product bought after the cut.
* ``new_items`` — candidates = products the customer never bought before the cut (at any
  affiliate); products bought before are removed from the ranking; relevant = truth items
  that are new to the customer; only customers with ≥ 1 such item.
* ``new_items_sparse`` — ``new_items`` restricted to customers with ≤ 3 distinct purchase
  days before the cut (``SPARSE_MAX_DAYS``).

Only customers with history before the cut and ≥ 1 relevant item in the split count; every
metric is the unweighted mean over those customers (``n_customers``).

Metrics (binary relevance; T = relevant items of the customer, top-K = the K best candidates):

* ``hit_rate`` (HR@K) = 1 if |top-K ∩ T| ≥ 1 else 0.
* ``ndcg`` (nDCG@K) = DCG / IDCG with DCG = Σ_{r=1..K} rel_r / log2(r + 1) and
  IDCG = Σ_{r=1..min(|T|, K)} 1 / log2(r + 1).
* ``recall`` (recall@K) = |top-K ∩ T| / min(|T|, K)  (capped recall: a perfect ranking scores
  1 even when |T| > K).
* ``precision`` (precision@K) = |top-K ∩ T| / K.
* ``auc`` (k = null) = per-customer ROC AUC of relevant vs non-relevant candidates
  = P(score(pos) > score(neg)) + ½·P(score(pos) = score(neg)) (Mann–Whitney with average ranks);
  customers whose candidates are all relevant are skipped (AUC undefined).

Ties: top-K lists break score ties by product index (lower index first; stable sort),
AUC counts a tie as ½. NaN / −inf scores rank below every finite score, +inf above.

Everything runs on tensors per batch of customers (top-k, gather, row sort, searchsorted); there
is no Python loop over customers, and results are deterministic (fixed batch order, float64
accumulation). Batches adapt to the catalogue (``batching``: a few [batch, products] arrays
of at most a quarter of the budget each), and each row is sorted once for both splits (the
new-items ranks subtract the customer's history items below each positive).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from .batching import MAX_ROWS, batch_rows
from .data import InteractionData
from .topk import stable_topk

__all__ = ["evaluate", "split_customers", "SPLITS", "SPARSE_MAX_DAYS", "truth_matrix"]

log = logging.getLogger(__name__)

SPLITS = ("all_items", "new_items", "new_items_sparse")
SPARSE_MAX_DAYS = 3
_F32 = torch.finfo(torch.float32)


def truth_matrix(data: InteractionData, truth: pd.DataFrame) -> sp.csr_matrix:
    """csr bool [n_customers, n_products] of the truth pairs."""
    t = truth[["customer_idx", "product_idx"]].drop_duplicates()
    m = sp.csr_matrix(
        (
            np.ones(len(t), dtype=bool),
            (t["customer_idx"].to_numpy(dtype=np.int64), t["product_idx"].to_numpy(dtype=np.int64)),
        ),
        shape=(data.n_customers, data.n_products),
        dtype=bool,
    )
    m.sort_indices()
    return m


def split_customers(data: InteractionData, truth: pd.DataFrame) -> dict[str, np.ndarray]:
    """Sorted customer indices evaluated in each split."""
    t = truth_matrix(data, truth)
    hist = data.bought_matrix() > 0
    has_hist = data.has_history()
    n_truth = np.asarray(t.getnnz(axis=1))
    new = t.astype(np.int8) - t.multiply(hist).astype(np.int8)
    n_new = np.asarray((new > 0).getnnz(axis=1))
    sparse_ok = data.purchase_days() <= SPARSE_MAX_DAYS
    return {
        "all_items": np.flatnonzero(has_hist & (n_truth > 0)),
        "new_items": np.flatnonzero(has_hist & (n_new > 0)),
        "new_items_sparse": np.flatnonzero(has_hist & (n_new > 0) & sparse_ok),
    }


def _clean(scores: torch.Tensor) -> torch.Tensor:
    """Finite float32 scores: NaN/−inf → lowest float, +inf → highest float."""
    s = scores.to(torch.float32)
    return torch.nan_to_num(s, nan=_F32.min, posinf=_F32.max, neginf=_F32.min)


def rank_metrics(
    top_rel: torch.Tensor, n_rel: torch.Tensor, ks: Sequence[int]
) -> dict[tuple[str, int | None], torch.Tensor]:
    """HR, nDCG, recall and precision @k per row (the formulas of the module docstring) from
    ``top_rel`` (float64 [rows, kmax]: 1 where the ranked item at that position is relevant) and
    ``n_rel`` (float64 [rows]: relevant items of the row)."""
    kmax = top_rel.shape[1]
    disc = 1.0 / torch.log2(torch.arange(2, kmax + 2, dtype=torch.float64))
    cum_disc = torch.cumsum(disc, 0)
    out: dict[tuple[str, int | None], torch.Tensor] = {}
    for k in ks:
        kk = min(k, kmax)
        hits = top_rel[:, :kk].sum(dim=1)
        dcg = (top_rel[:, :kk] * disc[:kk]).sum(dim=1)
        ideal_n = torch.clamp(torch.clamp(n_rel, max=float(k)), min=1.0)
        idcg = cum_disc[(torch.clamp(ideal_n, max=kmax) - 1).long()]
        out[("hit_rate", k)] = (hits > 0).to(torch.float64)
        out[("ndcg", k)] = dcg / idcg
        out[("recall", k)] = hits / ideal_n
        out[("precision", k)] = hits / float(k)
    return out


def _batch_metrics(
    scores: torch.Tensor,  # [B, P] finite float32 (non-candidates already −inf)
    sorted_scores: torch.Tensor,  # [B, P] the rows' original scores (candidates or not) sorted ascending
    rows: np.ndarray,  # the batch rows in this split
    positives: sp.csr_matrix,  # [B, P] relevant candidates (only ``rows`` have any)
    excluded: tuple[np.ndarray, np.ndarray, np.ndarray] | None,  # (row, column, original score) of non-candidates
    ks: Sequence[int],
) -> dict[tuple[str, int | None], torch.Tensor]:
    """Per-customer metric values (float64 [len(rows)]); AUC row value is NaN when undefined."""
    n_rows, p = scores.shape
    positives = positives.tocsr()
    positives.sort_indices()
    n_rel = np.diff(positives.indptr)[rows].astype(np.float64)
    kmax = min(max(ks), p)
    order = stable_topk(scores[torch.from_numpy(rows)] if len(rows) < n_rows else scores, kmax).numpy()
    # top-k hits: is (row, product) a positive? (row-major keys of the sorted csr are sorted)
    pr = np.repeat(np.arange(n_rows, dtype=np.int64), np.diff(positives.indptr))
    keys = pr * p + positives.indices
    top_keys = rows[:, None].astype(np.int64) * p + order
    hit = np.zeros(order.shape, dtype=bool)
    if len(keys):
        hit = keys[np.minimum(np.searchsorted(keys, top_keys), len(keys) - 1)] == top_keys
    out = rank_metrics(torch.from_numpy(hit).to(torch.float64), torch.from_numpy(n_rel), ks)
    pos_scores = scores.numpy()[pr, positives.indices]
    auc = _auc(sorted_scores, pr, pos_scores, excluded, n_rows)
    out[("auc", None)] = torch.from_numpy(auc[rows])
    return out


def _auc(sorted_scores: torch.Tensor, pr: np.ndarray, pos_scores: np.ndarray, excluded, n_rows: int) -> np.ndarray:
    """Per-row ROC AUC (Mann-Whitney with average ranks) of the positives (row ``pr``, score
    ``pos_scores``) among the candidates, NaN when undefined. Only the positives need ranks:
    their scores are searched in the sorted rows, minus the non-candidates below them."""
    p = sorted_scores.shape[1]
    needles, slot = _padded(pr, pos_scores, n_rows)
    n_less = _count_below(sorted_scores, needles, pr, slot, right=False)
    n_le = _count_below(sorted_scores, needles, pr, slot, right=True)
    n_ex = np.zeros(n_rows)
    if excluded is not None and len(excluded[0]):
        ex_sorted = torch.from_numpy(_sorted_ragged(excluded[0], excluded[2], n_rows))
        n_less -= _count_below(ex_sorted, needles, pr, slot, right=False)
        n_le -= _count_below(ex_sorted, needles, pr, slot, right=True)
        n_ex = np.bincount(excluded[0], minlength=n_rows).astype(np.float64)
    n_rel = np.bincount(pr, minlength=n_rows).astype(np.float64)
    avg_rank = n_less + (n_le - n_less + 1.0) / 2.0  # 1-based among candidates
    rank_sum = np.bincount(pr, weights=avg_rank, minlength=n_rows)
    n_neg = p - n_ex - n_rel
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (rank_sum - n_rel * (n_rel + 1.0) / 2.0) / (n_rel * n_neg)
    return np.where((n_neg > 0) & (n_rel > 0), auc, np.nan)


def _padded(row: np.ndarray, value: np.ndarray, n_rows: int) -> tuple[torch.Tensor, np.ndarray]:
    """[n_rows, max per row] the values of each row (``row`` ascending), padded with +inf, and
    each value's slot in its row."""
    counts = np.bincount(row, minlength=n_rows)
    slot = np.arange(len(row)) - np.repeat(np.cumsum(counts) - counts, counts)
    out = np.full((n_rows, max(int(counts.max()) if len(counts) else 0, 1)), np.inf, dtype=np.float32)
    out[row, slot] = value
    return torch.from_numpy(out), slot


def _count_below(
    sorted_rows: torch.Tensor, needles: torch.Tensor, row: np.ndarray, slot: np.ndarray, right: bool
) -> np.ndarray:
    """float64 per needle (row, slot): entries of the sorted row below it (``right``: at or below)."""
    found = torch.searchsorted(sorted_rows, needles, right=right).numpy()
    return found[row, slot].astype(np.float64)


def _sorted_ragged(row: np.ndarray, value: np.ndarray, n_rows: int) -> np.ndarray:
    """[n_rows, max entries per row] the values of each row sorted ascending, padded with +inf."""
    order = np.lexsort((value, row))
    return _padded(row[order], value[order], n_rows)[0].numpy()


def evaluate(
    models: Iterable,
    data: InteractionData,
    truth: pd.DataFrame,
    ks: Sequence[int] = (5, 10, 20),
    batch_size: int | None = None,
    metrics: Sequence[str] = ("hit_rate", "ndcg", "recall", "precision", "auc"),
) -> pd.DataFrame:
    """Evaluate fitted models. Returns one row per (model_name, metric, k, split) with
    columns model_name, metric, k (Int64, <NA> for auc), split, value, n_customers.
    ``batch_size``: customers per batch (None: as many as the memory budget allows; never more)."""
    ks = tuple(int(k) for k in ks)
    t = truth_matrix(data, truth)
    hist = (data.bought_matrix() > 0).tocsr()
    new_truth = (t.astype(np.int8) - t.multiply(hist).astype(np.int8)).tocsr() > 0
    groups = split_customers(data, truth)
    base = groups["all_items"]  # the other splits are subsets of it
    in_new = np.isin(base, groups["new_items"])
    in_sparse = np.isin(base, groups["new_items_sparse"])
    step = batch_rows(data.n_products, share=4, max_rows=batch_size or MAX_ROWS)
    rows = []
    for model in models:
        t0 = time.perf_counter()
        totals = _Totals()
        with torch.inference_mode():
            for start in range(0, len(base), step):
                idx = base[start : start + step]
                sc = _clean(torch.as_tensor(np.asarray(model.score(idx))))
                if sc.shape != (len(idx), data.n_products):
                    raise ValueError(f"{model.name}.score returned shape {tuple(sc.shape)}")
                srt = torch.from_numpy(np.sort(sc.numpy(), axis=1))
                every = np.arange(len(idx))
                totals.add("all_items", _batch_metrics(sc, srt, every, t[idx], None, ks))
                new = np.flatnonzero(in_new[start : start + step])
                if len(new):
                    ex = hist[idx[new]].tocoo()
                    ex_row, ex_col = new[ex.row], ex.col.astype(np.int64)
                    ex_values = sc.numpy()[ex_row, ex_col].copy()
                    sc.numpy()[ex_row, ex_col] = -np.inf  # history products are not candidates
                    vals = _batch_metrics(sc, srt, new, new_truth[idx], (ex_row, ex_col, ex_values), ks)
                    totals.add("new_items", vals)
                    totals.add("new_items_sparse", vals, torch.from_numpy(in_sparse[start : start + step][new]))
        log.info("evaluated %s on %d customers in %.2fs", model.name, len(base), time.perf_counter() - t0)
        rows += totals.rows(model.name, metrics, ks)
    out = pd.DataFrame(rows, columns=["model_name", "metric", "k", "split", "value", "n_customers"])
    out["k"] = out["k"].astype("Int64")
    out["value"] = out["value"].astype(np.float64)
    out["n_customers"] = out["n_customers"].astype(np.int64)
    return out


class _Totals:
    """Sums and counts of per-customer metric values per (split, metric, k)."""

    def __init__(self):
        self.sums: dict[tuple[str, str, int | None], float] = {}
        self.counts: dict[tuple[str, str, int | None], int] = {}

    def add(self, split: str, vals: dict, keep: torch.Tensor | None = None) -> None:
        for (metric, k), v in vals.items():
            if keep is not None:
                v = v[keep]
            v = v[~torch.isnan(v)]
            key = (split, metric, k)
            self.sums[key] = self.sums.get(key, 0.0) + float(v.sum())
            self.counts[key] = self.counts.get(key, 0) + int(v.numel())

    def rows(self, model_name: str, metrics: Sequence[str], ks: Sequence[int]) -> list[dict]:
        out = []
        for split in SPLITS:
            for metric in metrics:
                for k in [None] if metric == "auc" else ks:
                    n = self.counts.get((split, metric, k), 0)
                    out.append(
                        {
                            "model_name": model_name,
                            "metric": metric,
                            "k": k,
                            "split": split,
                            "value": self.sums[(split, metric, k)] / n if n else float("nan"),
                            "n_customers": n,
                        }
                    )
        return out
