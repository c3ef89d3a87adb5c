"""Recommendation kinds: three lists per (customer, affiliate) unit, their top-N and their
evaluation splits.

A **unit** is a customer and an affiliate the customer has ≥ 1 history line at (history = lines
up to and including the cut). Every kind ranks products of the affiliate's assortment
(``data.assortment[a]``: sold there in the history); its candidates are

* ``new_to_customer``: products the customer never bought before the cut, at any affiliate;
* ``new_at_affiliate``: products the customer bought before the cut at another affiliate but
  never at this one;
* ``replenishment``: products the customer bought at this affiliate on ≥ 2 distinct days
  (``REPLENISHMENT_MIN_DAYS``) before the cut.

The kinds are disjoint; a product bought at the affiliate on exactly one day is in none.
The first two together are the old published candidate set (not bought at that affiliate).

Top-N per unit and kind (``kind_lists``) ranks the candidates by the model's score (ties: lower
product index first; ranks 1..m without gaps, fewer than N when there are fewer candidates).

Evaluation (``evaluate_kinds``) uses the same definitions: for each kind, a unit counts when ≥ 1
of its candidates was bought at that affiliate in the truth window (``relevant``); the metrics
are evaluation.py's (HR / nDCG / recall / precision @K over the ranked candidates, AUC of the
relevant vs the other candidates, ties as there) averaged over those units — ``n_customers``
then counts units. Scores are cleaned as in evaluation (NaN / −inf lowest, +inf highest).

Batched: each model scores a batch of customers once; the loop runs over affiliates and kinds
on [units, products sold at the affiliate] tensors, never over customers.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from .batching import MAX_ROWS, batch_rows
from .data import InteractionData
from .evaluation import _count_below, _padded, rank_metrics
from .topk import stable_topk

__all__ = [
    "KINDS",
    "REPLENISHMENT_MIN_DAYS",
    "evaluate_kinds",
    "kind_candidates",
    "kind_lists",
    "truth_at_affiliates",
]

KINDS = ("new_to_customer", "new_at_affiliate", "replenishment")
REPLENISHMENT_MIN_DAYS = 2
_F32 = torch.finfo(torch.float32)
_NEG_INF = float("-inf")


def affiliate_columns(data: InteractionData) -> list[np.ndarray]:
    """Per affiliate the product indices it sold in the history (ascending)."""
    return [np.flatnonzero(data.assortment[a]) for a in range(data.n_affiliates)]


def kind_candidates(
    data: InteractionData, affiliate: int, customer_idx: np.ndarray, columns: np.ndarray
) -> dict[str, np.ndarray]:
    """bool [len(customer_idx), len(columns)] per kind: is the product (a column of the
    affiliate's assortment) a candidate of that kind for the unit (customer, affiliate)."""
    rows = np.asarray(customer_idx, dtype=np.int64)
    bought = _dense(data.bought_matrix(), rows, columns) > 0
    at_affiliate = _dense(data.bought_at_affiliate()[affiliate], rows, columns) > 0
    days = _dense(data.purchase_days_at_affiliate()[affiliate], rows, columns)
    return {
        "new_to_customer": ~bought,
        "new_at_affiliate": bought & ~at_affiliate,
        "replenishment": days >= REPLENISHMENT_MIN_DAYS,
    }


def _dense(matrix: sp.csr_matrix, rows: np.ndarray, columns: np.ndarray) -> np.ndarray:
    return matrix[rows][:, columns].toarray()


def truth_at_affiliates(data: InteractionData, affiliate_truth: pd.DataFrame) -> list[sp.csr_matrix]:
    """Per affiliate a csr bool [n_customers, n_products]: bought there in the truth window
    (``affiliate_truth``: customer_idx, product_idx, affiliate_idx; data.affiliate_truth_pairs)."""
    out = []
    a = affiliate_truth["affiliate_idx"].to_numpy()
    for k in range(data.n_affiliates):
        at = affiliate_truth[a == k]
        m = sp.csr_matrix(
            (np.ones(len(at), dtype=bool), (at["customer_idx"].to_numpy(), at["product_idx"].to_numpy())),
            shape=(data.n_customers, data.n_products),
            dtype=bool,
        )
        m.sort_indices()
        out.append(m)
    return out


def _clean(scores) -> torch.Tensor:
    s = torch.as_tensor(np.asarray(scores)).to(torch.float32)
    return torch.nan_to_num(s, nan=_F32.min, posinf=_F32.max, neginf=_F32.min)


def _units(
    model, data: InteractionData, customer_idx: np.ndarray, batch_size: int | None
) -> Iterator[tuple[int, np.ndarray, np.ndarray, torch.Tensor]]:
    """(affiliate, customer indices of its units, the affiliate's columns, cleaned scores
    [units, columns]) — each customer batch scored once."""
    has_unit = data.customer_affiliate_counts() > 0
    columns = affiliate_columns(data)
    # alive at once: the scores, the affiliate's slice, the history counts densified for the masks
    step = batch_rows(data.n_products, share=4, max_rows=batch_size or MAX_ROWS)
    for start in range(0, len(customer_idx), step):
        idx = customer_idx[start : start + step]
        scores = _clean(model.score(idx))
        if scores.shape != (len(idx), data.n_products):
            raise ValueError(f"{model.name}.score returned shape {tuple(scores.shape)}")
        for a, cols in enumerate(columns):
            rows = np.flatnonzero(has_unit[idx, a])
            if len(rows) and len(cols):
                yield a, idx[rows], cols, scores[torch.from_numpy(rows)][:, torch.from_numpy(cols)]


def _customers_with_units(data: InteractionData, customers) -> np.ndarray:
    if customers is None:
        return np.flatnonzero(data.customer_affiliate_counts().sum(axis=1) > 0)
    return np.unique(np.asarray(customers, dtype=np.int64))


# ---------------------------------------------------------------------------- top-N lists
def kind_lists(
    model,
    data: InteractionData,
    n: int,
    kinds: Sequence[str] = KINDS,
    customers=None,
    batch_size: int | None = None,
) -> pd.DataFrame:
    """Top-``n`` candidates per unit and kind, in index space: customer_idx (int64),
    affiliate_idx (int16), recommendation_kind (str), rank (int32, 1..), product_idx (int64),
    score (float32), sorted by customer, affiliate, kind (KINDS order), rank. ``customers``:
    customer indices (None: every customer with history)."""
    parts = []
    with torch.inference_mode():
        for a, idx, cols, scores in _units(model, data, _customers_with_units(data, customers), batch_size):
            candidates = kind_candidates(data, a, idx, cols)
            for kind in kinds:
                parts.append(_top(scores, candidates[kind], n, idx, a, cols, kind))
    frame = pd.concat(parts, ignore_index=True) if parts else _empty_lists()
    order = np.lexsort(
        (
            frame["rank"].to_numpy(),
            _kind_order(frame["recommendation_kind"]),
            frame["affiliate_idx"],
            frame["customer_idx"],
        )
    )
    return frame.iloc[order].reset_index(drop=True)


def _top(scores, candidates, n, idx, affiliate, cols, kind) -> pd.DataFrame:
    r, rank, c, top_scores = ranked_candidates(scores, candidates, n)
    return pd.DataFrame(
        {
            "customer_idx": idx[r].astype(np.int64),
            "affiliate_idx": np.full(len(r), affiliate, dtype=np.int16),
            "recommendation_kind": np.full(len(r), kind, dtype=object),
            "rank": rank.astype(np.int32) + 1,
            "product_idx": cols[c].astype(np.int64),
            "score": top_scores.astype(np.float32),
        }
    )


# a row's candidates are sorted directly (instead of a top-k over the whole row) when there are at
# most this many per listed position: the few candidates of new_at_affiliate and replenishment
SPARSE_CANDIDATES_PER_POSITION = 8


def ranked_candidates(
    scores: torch.Tensor, candidates: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The best ``k`` candidates (bool array) of each row of ``scores`` (score desc, then column
    asc): row, rank (0-based, ascending within a row, no gaps), column and score, row-major. Few
    candidates per row are sorted directly; many go through a top-k of the masked row."""
    n_candidates = np.count_nonzero(candidates, axis=1)
    k = min(int(k), int(n_candidates.max()) if len(n_candidates) else 0)
    if k == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, np.zeros(0, dtype=np.float32)
    if int(n_candidates.sum()) <= SPARSE_CANDIDATES_PER_POSITION * k * len(n_candidates):
        rows, cols = np.nonzero(candidates)
        values = scores.numpy()[rows, cols]
        order = np.lexsort((cols, -values, rows))
        rows, cols, values = rows[order], cols[order], values[order]
        rank = np.arange(len(rows)) - np.repeat(np.cumsum(n_candidates) - n_candidates, n_candidates)
        keep = rank < k
        return rows[keep], rank[keep], cols[keep], values[keep]
    masked = torch.where(torch.from_numpy(candidates), scores, _NEG_INF)
    top = stable_topk(masked, k)
    top_scores = torch.gather(masked, 1, top)
    r, rank = (top_scores > _NEG_INF).nonzero(as_tuple=True)  # row-major: ranks ascending, no gaps
    return r.numpy(), rank.numpy(), top[r, rank].numpy(), top_scores[r, rank].numpy()


def _empty_lists() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_idx": np.zeros(0, np.int64),
            "affiliate_idx": np.zeros(0, np.int16),
            "recommendation_kind": np.zeros(0, object),
            "rank": np.zeros(0, np.int32),
            "product_idx": np.zeros(0, np.int64),
            "score": np.zeros(0, np.float32),
        }
    )


def _kind_order(kinds: pd.Series) -> np.ndarray:
    return pd.Categorical(kinds, categories=KINDS).codes


# ---------------------------------------------------------------------------- evaluation
def evaluate_kinds(
    models: Iterable,
    data: InteractionData,
    affiliate_truth: pd.DataFrame,
    ks: Sequence[int] = (5, 10, 20),
    metrics: Sequence[str] = ("hit_rate", "ndcg", "recall", "precision", "auc"),
    batch_size: int | None = None,
) -> pd.DataFrame:
    """One row per (model_name, metric, k, split = kind) with value (mean over the kind's units
    with ≥ 1 relevant candidate) and n_customers (those units); kinds without such units have
    no rows."""
    ks = tuple(int(k) for k in ks)
    truth = truth_at_affiliates(data, affiliate_truth)
    customers = np.unique(affiliate_truth["customer_idx"].to_numpy().astype(np.int64))
    customers = customers[data.customer_affiliate_counts()[customers].sum(axis=1) > 0]
    rows = []
    for model in models:
        started = time.perf_counter()
        sums: dict[tuple, float] = {}
        counts: dict[tuple, int] = {}
        with torch.inference_mode():
            for a, idx, cols, scores in _units(model, data, customers, batch_size):
                relevant_all = _dense(truth[a], idx, cols)
                candidates = kind_candidates(data, a, idx, cols)
                for kind in KINDS:
                    relevant = relevant_all & candidates[kind]
                    units = np.flatnonzero(relevant.any(axis=1))
                    if len(units) == 0:
                        continue
                    pick = torch.from_numpy(units)
                    values = unit_metrics(scores[pick], candidates[kind][units], relevant[units], ks)
                    for (metric, k), v in values.items():
                        v = v[~torch.isnan(v)]
                        sums[(kind, metric, k)] = sums.get((kind, metric, k), 0.0) + float(v.sum())
                        counts[(kind, metric, k)] = counts.get((kind, metric, k), 0) + int(v.numel())
        print(f"[recommenders] {model.name}: kind splits in {time.perf_counter() - started:.1f} s", flush=True)
        for kind in KINDS:
            for metric in metrics:
                for k in [None] if metric == "auc" else ks:
                    n = counts.get((kind, metric, k), 0)
                    if n:
                        rows.append((model.name, metric, k, kind, sums[(kind, metric, k)] / n, n))
    out = pd.DataFrame(rows, columns=["model_name", "metric", "k", "split", "value", "n_customers"])
    out["k"] = out["k"].astype("Int64")
    out["value"] = out["value"].astype(np.float64)
    out["n_customers"] = out["n_customers"].astype(np.int64)
    return out


def unit_metrics(
    scores: torch.Tensor, candidates: np.ndarray, relevant: np.ndarray, ks: Sequence[int]
) -> dict[tuple[str, int | None], torch.Tensor]:
    """Per-unit metric values (float64 [units]) of finite ``scores`` [units, columns] ranked over
    the ``candidates`` with ``relevant`` (bool arrays; relevant ⊆ candidates, ≥ 1 per row) —
    the formulas of evaluation.py; AUC NaN when every candidate is relevant."""
    n_units, n_columns = scores.shape
    n_rel = torch.from_numpy(relevant.sum(axis=1).astype(np.float64))
    kmax = min(max(ks), n_columns)
    row, rank, col, _ = ranked_candidates(scores, candidates, kmax)
    top_rel = torch.zeros((n_units, kmax), dtype=torch.float64)  # positions past the candidates: not relevant
    top_rel[torch.from_numpy(row), torch.from_numpy(rank)] = torch.from_numpy(relevant[row, col].astype(np.float64))
    out = rank_metrics(top_rel, n_rel, ks)
    out[("auc", None)] = torch.from_numpy(_auc(scores, candidates, relevant))
    return out


def _auc(scores: torch.Tensor, candidates: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """Per-unit ROC AUC of the relevant vs the other candidates (Mann–Whitney, average ranks):
    each relevant score is searched in the sorted row, where the non-candidates (−inf) sit
    below every candidate."""
    n_units, n_columns = scores.shape
    row, col = np.nonzero(relevant)
    needles, slot = _padded(row, scores.numpy()[row, col], n_units)
    sorted_rows = torch.sort(torch.where(torch.from_numpy(candidates), scores, _NEG_INF), dim=1).values
    n_candidates = np.count_nonzero(candidates, axis=1).astype(np.float64)
    below_all = (n_columns - n_candidates)[row]
    n_less = _count_below(sorted_rows, needles, row, slot, right=False) - below_all
    n_le = _count_below(sorted_rows, needles, row, slot, right=True) - below_all
    n_rel = np.bincount(row, minlength=n_units).astype(np.float64)
    rank_sum = np.bincount(row, weights=n_less + (n_le - n_less + 1.0) / 2.0, minlength=n_units)
    n_neg = n_candidates - n_rel
    with np.errstate(divide="ignore", invalid="ignore"):
        auc = (rank_sum - n_rel * (n_rel + 1.0) / 2.0) / (n_rel * n_neg)
    return np.where((n_neg > 0) & (n_rel > 0), auc, np.nan)
