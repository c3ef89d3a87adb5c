"""The network of ``SequentialRecommender`` (the estimator, ``sequential``) and the session tokens
it reads.

A customer's history is the ordered list of their sessions (lines sharing ``session_id``:
one affiliate, one hour offline / one day online; :func:`build_session_table`). Each session
becomes a token:

    mean over its distinct products of (product + category embeddings, one per level present)
    + affiliate embedding + spend-bin embedding (8 quantile bins of log session spend, as the
      seed's 3-sigma bins) + time-gap embedding (log2 days since the previous session)
    + day-of-week embedding.

The token sequence is ``[customer-features token, s_0, ..., s_{n-1}]`` (last ``max_sessions``
sessions, :func:`session_batch`; the features token embeds whatever customer attributes the data
has — L.Point: sex, age band, region and sex × age — or nothing). A GRU or a small causal
Transformer encoder reads it (:class:`SessionNet`); output ``o_k`` (+ the features vector)
summarises the features and the sessions before ``k``. The product table is tied between input
tokens and the output layer.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .torch_utils import FeatureEmbedding

__all__ = ["N_GAP_BINS", "N_SPEND_BINS", "SessionNet", "build_session_table", "ragged", "session_batch"]

N_SPEND_BINS = 8
N_GAP_BINS = 10  # 0 first session, 1 same day, 2..9 = log2 day buckets


def build_session_table(data) -> dict:
    """Vectorised session table from ``data.lines`` (sessions are dense ids ordered in time
    within a customer). Returns numpy arrays: per session ``customer``, ``affiliate``,
    ``spend_bin``, ``gap_bin``, ``dow``; ``item_ptr``/``items`` (CSR of distinct products per
    session); per customer ``sess_ptr`` (CSR of the customer's sessions, in time order)."""
    ln = data.lines
    sid = ln["session_id"].to_numpy().astype(np.int64)
    # compact session ids (robust to gaps), ordered by (customer, session id)
    cust_l = ln["customer_idx"].to_numpy().astype(np.int64)
    order = np.lexsort((sid, cust_l))
    sid_sorted, cust_sorted = sid[order], cust_l[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = (sid_sorted[1:] != sid_sorted[:-1]) | (cust_sorted[1:] != cust_sorted[:-1])
    dense_sorted = np.cumsum(first) - 1
    dense = np.empty(len(order), dtype=np.int64)
    dense[order] = dense_sorted
    n_sess = int(first.sum())

    ts = ln["purchased_at"].to_numpy().astype("datetime64[s]").astype(np.int64)
    amount = ln["amount"].to_numpy().astype(np.float64)
    aff_l = ln["affiliate_idx"].to_numpy().astype(np.int64)
    s_cust = cust_sorted[first]
    s_first = np.full(n_sess, np.iinfo(np.int64).max)
    np.minimum.at(s_first, dense, ts)
    s_aff = np.zeros(n_sess, dtype=np.int64)
    s_aff[dense[order][first]] = aff_l[order][first]
    spend = np.bincount(dense, weights=np.clip(amount, 0, None), minlength=n_sess)
    lsp = np.log1p(spend)
    if n_sess > 1:
        edges = np.quantile(lsp, np.linspace(0, 1, N_SPEND_BINS + 1)[1:-1])
        spend_bin = np.searchsorted(edges, lsp, side="right").astype(np.int64)
    else:
        spend_bin = np.zeros(n_sess, dtype=np.int64)

    # time gap to the previous session of the same customer
    gap_days = np.zeros(n_sess, dtype=np.float64)
    same = np.zeros(n_sess, dtype=bool)
    same[1:] = s_cust[1:] == s_cust[:-1]
    gap_days[1:] = (s_first[1:] - s_first[:-1]) / 86400.0
    gap_log = np.floor(np.log2(np.maximum(gap_days, 0) + 1)).astype(np.int64)
    gap_bin = np.where(same, 1 + np.clip(gap_log, 0, N_GAP_BINS - 2), 0)
    dow = ((s_first // 86400) + 3) % 7  # 1970-01-01 was a Thursday -> 0 = Monday

    # distinct products per session
    prod = ln["product_idx"].to_numpy().astype(np.int64)
    key = np.unique(dense * np.int64(data.n_products) + prod)
    it_sess, items = key // data.n_products, key % data.n_products
    item_ptr = np.zeros(n_sess + 1, dtype=np.int64)
    item_ptr[1:] = np.cumsum(np.bincount(it_sess, minlength=n_sess))

    sess_ptr = np.zeros(data.n_customers + 1, dtype=np.int64)
    sess_ptr[1:] = np.cumsum(np.bincount(s_cust, minlength=data.n_customers))
    return dict(
        customer=s_cust,
        affiliate=s_aff,
        spend_bin=spend_bin,
        gap_bin=gap_bin.astype(np.int64),
        dow=dow.astype(np.int64),
        item_ptr=item_ptr,
        items=items,
        sess_ptr=sess_ptr,
        n_sessions=n_sess,
    )


def ragged(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the CSR entries of ``rows`` (flattened, in row order) and row lengths."""
    starts = ptr[rows]
    lens = ptr[rows + 1] - starts
    off = np.zeros(len(rows), dtype=np.int64)
    if len(rows) > 1:
        off[1:] = np.cumsum(lens)[:-1]
    pos = np.repeat(starts - off, lens) + np.arange(int(lens.sum()), dtype=np.int64)
    return pos, lens


class SessionNet(nn.Module):
    def __init__(
        self,
        n_products,
        category_sizes,
        n_affiliates,
        attribute_sizes,
        dim,
        arch,
        n_layers,
        n_heads,
        max_sessions,
        dropout,
    ):
        super().__init__()
        self.arch = arch
        self.item = nn.Embedding(n_products, dim)
        self.categories = FeatureEmbedding(category_sizes, dim)
        self.item_bias = nn.Parameter(torch.zeros(n_products))
        self.aff = nn.Embedding(n_affiliates, dim)
        self.spend = nn.Embedding(N_SPEND_BINS, dim)
        self.gap = nn.Embedding(N_GAP_BINS, dim)
        self.dow = nn.Embedding(7, dim)
        self.attributes = FeatureEmbedding(attribute_sizes, dim)
        self.feat_token = nn.Parameter(torch.zeros(dim))
        self.drop = nn.Dropout(dropout)
        if arch == "gru":
            self.enc = nn.GRU(dim, dim, num_layers=n_layers, batch_first=True)
        else:
            self.pos = nn.Embedding(max_sessions + 1, dim)
            layer = nn.TransformerEncoderLayer(
                dim, n_heads, dim_feedforward=2 * dim, dropout=dropout, batch_first=True, norm_first=True
            )
            self.enc = nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)
        self.out_norm = nn.LayerNorm(dim)
        for emb in (self.item, self.aff, self.spend, self.gap, self.dow):
            nn.init.normal_(emb.weight, std=0.05)

    def product_table(self, categories):
        return self.item.weight + self.categories(categories)

    def features(self, attributes):
        return self.attributes(attributes)

    def encode(
        self, table, tokens_items, tokens_off, s_aff, s_spend, s_gap, s_dow, scatter_b, scatter_t, demo, seq_len
    ):
        """Returns outputs [B, T+1, dim]: o_k summarises the features and sessions < k."""
        B, T = demo.shape[0], int(seq_len.max()) if len(seq_len) else 0
        dim = table.shape[1]
        sess_vec = F.embedding_bag(tokens_items, table, tokens_off, mode="mean")
        sess_vec = sess_vec + self.aff(s_aff) + self.spend(s_spend) + self.gap(s_gap) + self.dow(s_dow)
        feat = self.features(demo)
        x = torch.zeros(B, T + 1, dim)
        x[:, 0] = feat + self.feat_token
        x = x.index_put((scatter_b, scatter_t + 1), sess_vec)
        x = self.drop(x)
        if self.arch == "gru":
            out, _ = self.enc(x)
        else:
            x = x + self.pos.weight[: T + 1][None]
            mask = torch.triu(torch.ones(T + 1, T + 1, dtype=torch.bool), diagonal=1)
            pad = torch.arange(T + 1)[None, :] > seq_len[:, None]
            out = self.enc(x, mask=mask, src_key_padding_mask=pad, is_causal=True)
        return self.out_norm(out + feat[:, None])


def session_batch(
    sessions: dict,
    customer_features: np.ndarray,
    max_sessions: int,
    rows: np.ndarray,
    drop_last: np.ndarray | None = None,
):
    """Padded batch for customers ``rows`` (the histories truncated to the last ``max_sessions``
    sessions of the ``build_session_table`` table); ``drop_last`` (bool per row) hides the last
    session (validation). Returns the tensors ``SessionNet.encode`` reads + per-row sequence
    length and first session."""
    ptr = sessions["sess_ptr"]
    n = ptr[rows + 1] - ptr[rows]
    if drop_last is not None:
        n = n - drop_last.astype(np.int64)
    seq_len = np.minimum(n, max_sessions)
    first = ptr[rows] + n - seq_len  # first session of the truncated sequence
    tot = int(seq_len.sum())
    b = np.repeat(np.arange(len(rows), dtype=np.int64), seq_len)
    off = np.zeros(len(rows), dtype=np.int64)
    if len(rows) > 1:
        off[1:] = np.cumsum(seq_len)[:-1]
    t = np.arange(tot, dtype=np.int64) - np.repeat(off, seq_len)
    sess = np.repeat(first, seq_len) + t
    ipos, ilens = ragged(sessions["item_ptr"], sess)
    toff = np.zeros(len(sess), dtype=np.int64)
    if len(sess) > 1:
        toff[1:] = np.cumsum(ilens)[:-1]
    tens = (
        torch.from_numpy(sessions["items"][ipos]),
        torch.from_numpy(toff),
        torch.from_numpy(sessions["affiliate"][sess]),
        torch.from_numpy(sessions["spend_bin"][sess]),
        torch.from_numpy(sessions["gap_bin"][sess]),
        torch.from_numpy(sessions["dow"][sess]),
        torch.from_numpy(b),
        torch.from_numpy(t),
        torch.from_numpy(customer_features[rows]),
        torch.from_numpy(seq_len),
    )
    return tens, seq_len, first, n, b, t, sess
