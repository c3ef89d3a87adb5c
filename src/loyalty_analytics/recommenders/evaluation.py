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
accumulation).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

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


def _batch_metrics(
    scores: torch.Tensor,  # [B, P] finite float32
    rel: torch.Tensor,  # [B, P] bool
    cand: torch.Tensor | None,  # [B, P] bool, None = every product is a candidate
    ks: Sequence[int],
    n_cand: torch.Tensor | None = None,  # [B] candidates per row when known (saves a pass)
) -> dict[tuple[str, int | None], torch.Tensor]:
    """Per-customer metric values (float64 [B]); AUC row value is NaN when undefined."""
    n, p = scores.shape
    if cand is None:
        s, relc = scores, rel
        n_cand = torch.full((n,), float(p), dtype=torch.float64)
    else:
        s = scores.masked_fill(~cand, float("-inf"))
        relc = rel & cand
        if n_cand is None:
            n_cand = torch.count_nonzero(cand, dim=1)
        n_cand = n_cand.to(torch.float64)
    n_noncand = p - n_cand
    kmax = min(max(ks), p)
    order = stable_topk(s, kmax)
    top_rel = torch.gather(relc, 1, order).to(torch.float64)  # [B, kmax]
    r, c = relc.nonzero(as_tuple=True)  # row-major positives
    n_rel_i = torch.bincount(r, minlength=n)
    n_rel = n_rel_i.to(torch.float64)
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
    # AUC (Mann-Whitney with average ranks). Non-candidates are -inf, strictly below every
    # candidate (scores were made finite), so they are subtracted from the rank counts.
    # Only the positives need ranks: sort each row (values only, numpy is fast), then
    # searchsorted the padded positive scores of each row.
    srt = torch.from_numpy(np.sort(s.numpy(), axis=1))
    starts = torch.cumsum(n_rel_i, 0) - n_rel_i
    slot = torch.arange(len(r)) - starts[r]
    max_pos = int(n_rel_i.max()) if n > 0 else 0
    q = torch.full((n, max(max_pos, 1)), float("inf"), dtype=s.dtype)
    q[r, slot] = s[r, c]
    n_less = torch.searchsorted(srt, q, right=False)[r, slot].to(torch.float64)
    n_le = torch.searchsorted(srt, q, right=True)[r, slot].to(torch.float64)
    avg_rank = (n_less - n_noncand[r]) + (n_le - n_less + 1.0) / 2.0  # 1-based among candidates
    rank_sum = torch.zeros(n, dtype=torch.float64).index_add_(0, r, avg_rank)
    n_neg = n_cand - n_rel
    u = rank_sum - n_rel * (n_rel + 1.0) / 2.0
    auc = u / (n_rel * n_neg)
    out[("auc", None)] = torch.where((n_neg > 0) & (n_rel > 0), auc, torch.full_like(auc, float("nan")))
    return out


def evaluate(
    models: Iterable,
    data: InteractionData,
    truth: pd.DataFrame,
    ks: Sequence[int] = (5, 10, 20),
    batch_size: int = 2048,
    metrics: Sequence[str] = ("hit_rate", "ndcg", "recall", "precision", "auc"),
) -> pd.DataFrame:
    """Evaluate fitted models. Returns one row per (model_name, metric, k, split) with
    columns model_name, metric, k (Int64, <NA> for auc), split, value, n_customers."""
    ks = tuple(int(k) for k in ks)
    t = truth_matrix(data, truth)
    hist = (data.bought_matrix() > 0).tocsr()
    n_hist = np.asarray(hist.getnnz(axis=1), dtype=np.int64)
    groups = split_customers(data, truth)
    base = groups["all_items"]  # the other splits are subsets of it
    in_new = np.isin(base, groups["new_items"])
    in_sparse = np.isin(base, groups["new_items_sparse"])
    rows = []
    for model in models:
        t0 = time.perf_counter()
        sums: dict[tuple[str, str, int | None], float] = {}
        counts: dict[tuple[str, str, int | None], int] = {}
        with torch.inference_mode():
            for start in range(0, len(base), batch_size):
                idx = base[start : start + batch_size]
                sc = _clean(torch.as_tensor(np.asarray(model.score(idx))))
                if sc.shape != (len(idx), data.n_products):
                    raise ValueError(f"{model.name}.score returned shape {tuple(sc.shape)}")
                rel = torch.from_numpy(t[idx].toarray())
                h = torch.from_numpy(hist[idx].toarray())
                sel_new = torch.from_numpy(in_new[start : start + batch_size])
                sel_sparse = torch.from_numpy(in_sparse[start : start + batch_size])

                def add(split: str, vals: dict, keep: torch.Tensor | None = None) -> None:
                    for (metric, k), v in vals.items():
                        if keep is not None:
                            v = v[keep]
                        v = v[~torch.isnan(v)]
                        sk = (split, metric, k)
                        sums[sk] = sums.get(sk, 0.0) + float(v.sum())
                        counts[sk] = counts.get(sk, 0) + int(v.numel())

                add("all_items", _batch_metrics(sc, rel, None, ks))
                if bool(sel_new.any()):
                    r = sel_new.nonzero().squeeze(1)
                    n_cand = data.n_products - torch.from_numpy(n_hist[idx][r.numpy()])
                    vals = _batch_metrics(sc[r], rel[r], ~h[r], ks, n_cand=n_cand)
                    add("new_items", vals)
                    add("new_items_sparse", vals, sel_sparse[r])
        log.info("evaluated %s on %d customers in %.2fs", model.name, len(base), time.perf_counter() - t0)
        for split in SPLITS:
            for metric in metrics:
                for k in ([None] if metric == "auc" else ks):
                    sk = (split, metric, k)
                    n = counts.get(sk, 0)
                    rows.append(
                        {
                            "model_name": model.name,
                            "metric": metric,
                            "k": k,
                            "split": split,
                            "value": sums[sk] / n if n else float("nan"),
                            "n_customers": n,
                        }
                    )
    out = pd.DataFrame(rows, columns=["model_name", "metric", "k", "split", "value", "n_customers"])
    out["k"] = out["k"].astype("Int64")
    out["value"] = out["value"].astype(np.float64)
    out["n_customers"] = out["n_customers"].astype(np.int64)
    return out
