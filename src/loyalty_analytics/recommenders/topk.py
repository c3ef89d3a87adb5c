"""Top-N recommendations per customer and affiliate.

For every customer and every affiliate the customer has shopped at (≥ 1 history line there),
the candidates are the products sold at that affiliate (``data.assortment[a]``) that the
customer has NOT bought at that affiliate before the cut; the model's scores of those
candidates are ranked (ties: lower product index first, stable sort) and the best ``n`` kept
(fewer when there are fewer candidates). Ranks are 1..m without gaps.

Batched torch top-k over [batch, products sold at the affiliate]; no Python loop over
customers. Customer batches adapt to the catalogue (``batching``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .batching import MAX_ROWS, batch_rows
from .data import InteractionData

__all__ = ["recommend_per_affiliate", "stable_topk"]

_F32 = torch.finfo(torch.float32)


def stable_topk(s: torch.Tensor, k: int) -> torch.Tensor:
    """Indices [B, k] of the k largest values per row, ordered by (value desc, column asc).

    Deterministic tie-breaking (torch.topk alone does not guarantee which of several equal
    values it returns, nor their order) without a full row sort: torch.topk(k + 1) picks the
    set; rows whose (k+1)-th value equals the k-th (a tie across the cut) are redone exactly
    (all values > v_k plus the lowest-index values == v_k); finally the k chosen indices are
    ordered by (value desc, column asc). Requires no NaN.
    """
    b, p = s.shape
    k = min(int(k), p)
    if b == 0 or k == 0:
        return torch.zeros((b, k), dtype=torch.long)
    vals, idx = torch.topk(s, min(k + 1, p), dim=1, sorted=True)
    if k < p:
        tie_rows = (vals[:, k] == vals[:, k - 1]).nonzero(as_tuple=True)[0]
        vals, idx = vals[:, :k].contiguous(), idx[:, :k].contiguous()
        if len(tie_rows):
            st = s[tie_rows]
            vt = vals[tie_rows, k - 1 :]
            gt = st > vt
            eq = st == vt
            need = k - torch.count_nonzero(gt, dim=1).unsqueeze(1)
            sel = gt | (eq & (torch.cumsum(eq, dim=1) <= need))
            idx[tie_rows] = sel.nonzero(as_tuple=True)[1].view(len(tie_rows), k)
            vals[tie_rows] = torch.gather(st, 1, idx[tie_rows])
    # order by value desc, then column asc (numpy lexsort on the small [B, k] arrays)
    order = np.lexsort((idx.numpy(), -vals.numpy()), axis=1)
    return torch.gather(idx, 1, torch.from_numpy(order))


def _customer_index(data: InteractionData, customers) -> np.ndarray:
    if customers is None:
        return np.flatnonzero(data.customer_affiliate_counts().sum(axis=1) > 0)
    arr = np.asarray(customers)
    if arr.dtype.kind in "iu":
        return np.unique(arr.astype(np.int64))
    pos = pd.Categorical(arr.astype(object), categories=data.customer_ids).codes
    if (pos < 0).any():
        raise KeyError(f"unknown customer ids: {arr[pos < 0][:5].tolist()}")
    return np.unique(pos.astype(np.int64))


def recommend_per_affiliate(
    model,
    data: InteractionData,
    n: int = 30,
    customers=None,
    batch_size: int | None = None,
) -> pd.DataFrame:
    """DataFrame[customer_id, affiliate_code, rank (int32, 1..), product_code, score (float32)]
    sorted by customer index, affiliate index, rank. ``customers``: None (every customer with
    history) or an array of customer indices (int) or customer ids (str). ``batch_size``:
    customers per batch (None: as many as the memory budget allows; never more)."""
    idx_all = _customer_index(data, customers)
    cust_aff = data.customer_affiliate_counts() > 0
    bought_aff = data.bought_at_affiliate()
    # per affiliate: the columns (products) sold there, and product -> column position
    cols, pos = [], []
    for a in range(data.n_affiliates):
        c_a = np.flatnonzero(data.assortment[a])
        p_a = np.full(data.n_products, -1, dtype=np.int64)
        p_a[c_a] = np.arange(len(c_a))
        cols.append(c_a)
        pos.append(p_a)
    parts_c, parts_a, parts_r, parts_p, parts_s = [], [], [], [], []
    step = batch_rows(data.n_products, share=2, max_rows=batch_size or MAX_ROWS)
    with torch.inference_mode():
        for start in range(0, len(idx_all), step):
            idx = idx_all[start : start + step]
            raw = torch.as_tensor(np.asarray(model.score(idx))).to(torch.float32)
            sc = torch.nan_to_num(raw, nan=_F32.min, posinf=_F32.max, neginf=_F32.min)
            for a in range(data.n_affiliates):
                rows = np.flatnonzero(cust_aff[idx, a])
                if len(rows) == 0 or len(cols[a]) == 0:
                    continue
                # scores of the products sold at a (columns ascending = product index ascending)
                s = sc[torch.from_numpy(rows)][:, torch.from_numpy(cols[a])]
                # products already bought by the customer at a -> -inf (sparse coordinates)
                bought = bought_aff[a][idx[rows]].tocoo()
                bc = pos[a][bought.col]
                ok = bc >= 0
                s[torch.from_numpy(bought.row[ok].astype(np.int64)), torch.from_numpy(bc[ok])] = float("-inf")
                n_keep = min(int(n), s.shape[1])
                top_i = stable_topk(s, n_keep)
                top_s = torch.gather(s, 1, top_i)
                valid = top_s > float("-inf")  # -inf only at the end of a row: ranks have no gaps
                r_idx, c_idx = valid.nonzero(as_tuple=True)  # row-major: ranks ascending per row
                r_np = r_idx.numpy()
                parts_c.append(idx[rows][r_np])
                parts_a.append(np.full(len(r_np), a, dtype=np.int64))
                parts_r.append(c_idx.numpy().astype(np.int32) + 1)
                parts_p.append(cols[a][top_i[r_idx, c_idx].numpy()])
                parts_s.append(top_s[r_idx, c_idx].numpy())
    if parts_c:
        c = np.concatenate(parts_c)
        a = np.concatenate(parts_a)
        r = np.concatenate(parts_r)
        p = np.concatenate(parts_p)
        s = np.concatenate(parts_s).astype(np.float32)
    else:
        c = a = p = np.zeros(0, dtype=np.int64)
        r = np.zeros(0, dtype=np.int32)
        s = np.zeros(0, dtype=np.float32)
    order = np.lexsort((r, a, c))
    return pd.DataFrame(
        {
            "customer_id": data.customer_ids[c[order]],
            "affiliate_code": data.affiliate_codes[a[order]],
            "rank": r[order],
            "product_code": data.product_codes[p[order]],
            "score": s[order],
        }
    ).reset_index(drop=True)
