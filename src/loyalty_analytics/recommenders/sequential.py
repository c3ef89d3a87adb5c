"""Session-based sequential recommender (seed 003, SDM-like), GRU or causal self-attention.

A customer's history is the ordered list of their sessions (lines sharing ``session_id``:
one affiliate, one hour offline / one day online). Each session becomes a token:

    mean over its distinct products of (product + category embeddings, one per level present)
    + affiliate embedding + spend-bin embedding (8 quantile bins of log session spend, as the
      seed's 3-sigma bins) + time-gap embedding (log2 days since the previous session)
    + day-of-week embedding.

The token sequence is ``[customer-features token, s_0, ..., s_{n-1}]`` (last ``max_sessions``
sessions; the features token embeds whatever customer attributes the data has — L.Point: sex,
age band, region and sex × age — or nothing). A GRU or a small causal Transformer encoder reads
it; output ``o_k`` (+ the features vector) predicts the products of session ``k`` (multi-label:
softmax over the candidate products, averaged over the session's distinct candidates), so one
forward pass trains every (prefix → next session) example of a customer, the features-only
prefix included (cold start). Each epoch uses a seeded random subset of
``positions_per_customer`` target positions per customer to bound the output-layer cost; the
product table is tied between input tokens and the output layer.

The output layer covers the candidate products only: the products bought in the history, at
most ``max_candidates`` of them (the most bought; every product still has an input embedding);
customer batches shrink so that [target positions, candidates] fits the memory budget
(``batching``).

``score(customer_idx)`` encodes the whole (truncated) history and returns the next-session
logits over the candidates; the other products rank below them (the row's lowest candidate
logit − 1). See docs/recommenders.md for the GRU-vs-attention measurement.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .base import RecommenderBase
from .batching import batch_rows, row_batches
from .torch_utils import (
    EarlyStopping,
    EpochLogger,
    FeatureEmbedding,
    customer_feature_index,
    log,
    product_feature_index,
    restore_net,
    torch_session,
)

__all__ = ["SequentialRecommender", "build_session_table"]

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


def _ragged(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the CSR entries of ``rows`` (flattened, in row order) and row lengths."""
    starts = ptr[rows]
    lens = ptr[rows + 1] - starts
    off = np.zeros(len(rows), dtype=np.int64)
    if len(rows) > 1:
        off[1:] = np.cumsum(lens)[:-1]
    pos = np.repeat(starts - off, lens) + np.arange(int(lens.sum()), dtype=np.int64)
    return pos, lens


class _SeqNet(nn.Module):
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


class SequentialRecommender(RecommenderBase):
    """Next-session recommender over session histories (see module doc).

    Parameters: ``arch`` 'gru' or 'attention'; ``dim``; ``n_layers``; ``n_heads`` (attention);
    ``max_sessions`` L, histories truncated to the last L sessions; ``positions_per_customer``
    target positions sampled per customer and epoch (None = all); ``epochs``, ``patience``;
    ``batch_customers``; ``lr``, ``weight_decay``; ``dropout``; ``val_fraction`` share of
    customers whose last session is held out for early stopping (validation HR@10);
    ``min_steps_per_epoch`` (small data: smaller batches); ``max_candidates`` products of the
    output layer (the most bought; None: every product bought in the history); ``max_cross_levels`` crosses of
    attribute pairs with at most this many codes (0: none); ``num_threads``; ``random_state``
    seeds the initialisation, the validation customers, batch order and sampled positions.

    Learned: ``net_`` (weights), ``product_table_`` (tied product vectors), ``sessions_`` (the
    session table of the history: ``score`` encodes it, so it is stored with the model),
    ``customer_features_``, ``product_features_``, ``candidates_`` (the output layer's products),
    ``history_`` (one record per epoch), ``validation_hr10_`` and ``best_epoch_``, plus the
    training record of ``RecommenderBase``."""

    weights_file = "weights.pt"
    _summary_attributes = ("validation_hr10_", "best_epoch_", "history_")

    def __init__(
        self,
        arch: str = "gru",
        dim: int = 48,
        n_layers: int = 1,
        n_heads: int = 2,
        max_sessions: int = 30,
        positions_per_customer: int | None = 8,
        epochs: int = 3,
        patience: int = 1,
        batch_customers: int = 512,
        lr: float = 6e-3,
        weight_decay: float = 1e-5,
        dropout: float = 0.1,
        val_fraction: float = 0.1,
        min_steps_per_epoch: int = 30,
        max_candidates: int | None = 8192,
        max_cross_levels: int = 32,
        num_threads: int = 1,
        verbose: bool = True,
        random_state: int = 0,
    ):
        if arch not in ("gru", "attention"):
            raise ValueError(f"arch must be 'gru' or 'attention', got {arch!r}")
        self.arch = arch
        self.name = f"sequential_{arch}"
        self.dim = dim
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.max_sessions = max_sessions
        self.positions_per_customer = positions_per_customer
        self.epochs = epochs
        self.patience = patience
        self.batch_customers = batch_customers
        self.lr = lr
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.val_fraction = val_fraction
        self.min_steps_per_epoch = min_steps_per_epoch
        self.max_candidates = max_candidates
        self.max_cross_levels = max_cross_levels
        self.num_threads = num_threads
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ batching
    def _batch(self, rows: np.ndarray, drop_last: np.ndarray | None = None):
        """Padded batch for customers ``rows``; ``drop_last`` (bool per row) hides the last
        session (validation). Returns tensors + per-row sequence length and first session."""
        st = self.sessions_
        ptr = st["sess_ptr"]
        n = ptr[rows + 1] - ptr[rows]
        if drop_last is not None:
            n = n - drop_last.astype(np.int64)
        L = self.max_sessions
        seq_len = np.minimum(n, L)
        first = ptr[rows] + n - seq_len  # first session of the truncated sequence
        tot = int(seq_len.sum())
        b = np.repeat(np.arange(len(rows), dtype=np.int64), seq_len)
        off = np.zeros(len(rows), dtype=np.int64)
        if len(rows) > 1:
            off[1:] = np.cumsum(seq_len)[:-1]
        t = np.arange(tot, dtype=np.int64) - np.repeat(off, seq_len)
        sess = np.repeat(first, seq_len) + t
        ipos, ilens = _ragged(st["item_ptr"], sess)
        toff = np.zeros(len(sess), dtype=np.int64)
        if len(sess) > 1:
            toff[1:] = np.cumsum(ilens)[:-1]
        tens = (
            torch.from_numpy(st["items"][ipos]),
            torch.from_numpy(toff),
            torch.from_numpy(st["affiliate"][sess]),
            torch.from_numpy(st["spend_bin"][sess]),
            torch.from_numpy(st["gap_bin"][sess]),
            torch.from_numpy(st["dow"][sess]),
            torch.from_numpy(b),
            torch.from_numpy(t),
            torch.from_numpy(self.customer_features_[rows]),
            torch.from_numpy(seq_len),
        )
        return tens, seq_len, first, n, b, t, sess

    def _loss(self, net, table, out, b, t, sess, truncated, rng, k_pos):
        """Multi-label softmax loss of predicting session sess[i] (position t[i] of row b[i])
        from o_{t}; a seeded subset of positions per row when k_pos is set."""
        keep = ~(truncated[b] & (t == 0))  # features-only prefix of a truncated history: skip
        if k_pos is not None and rng is not None:
            r = rng.random(len(b))
            # keep the k_pos positions with the smallest random key per row (vectorised)
            order = np.lexsort((r, b))
            rank = np.empty(len(b), dtype=np.int64)
            starts = np.searchsorted(b[order], b[order], side="left")
            rank[order] = np.arange(len(b)) - starts
            keep &= rank < k_pos
        idx = np.flatnonzero(keep)
        if len(idx) == 0:
            return None
        # targets: the session's candidate products (sessions without one are skipped)
        ipos, _ = _ragged(self.sessions_["item_ptr"], sess[idx])
        column = self._column[self.sessions_["items"][ipos]]
        rowi = np.repeat(np.arange(len(idx), dtype=np.int64), np.diff(self.sessions_["item_ptr"])[sess[idx]])
        rowi, column = rowi[column >= 0], column[column >= 0]
        n_targets = np.bincount(rowi, minlength=len(idx))
        if not len(rowi):
            return None
        kept = np.flatnonzero(n_targets > 0)
        h = out[torch.from_numpy(b[idx[kept]]), torch.from_numpy(t[idx[kept]])]
        cand = self.candidates_
        logp = torch.log_softmax(h @ table[cand].T + net.item_bias[cand], 1)
        w = torch.from_numpy((1.0 / n_targets[rowi]).astype(np.float32))
        picked = logp[torch.from_numpy(np.searchsorted(kept, rowi)), torch.from_numpy(column)]
        return -(picked * w).sum() / len(kept)

    # ------------------------------------------------------------------ fit
    def _new_net(self) -> _SeqNet:
        s = self.net_sizes_
        return _SeqNet(
            s["n_products"],
            list(s["category_sizes"]),
            s["n_affiliates"],
            list(s["attribute_sizes"]),
            self.dim,
            self.arch,
            self.n_layers,
            self.n_heads,
            self.max_sessions,
            self.dropout,
        )

    def _set_candidates(self, candidates: np.ndarray, n_products: int) -> None:
        self.candidates_ = torch.from_numpy(np.asarray(candidates, dtype=np.int64))
        self._column = np.full(n_products, -1, dtype=np.int64)
        self._column[candidates] = np.arange(len(candidates))

    def _fit(self, data) -> None:
        rng = np.random.default_rng(self.random_state)
        self.validation_hr10_, self.best_epoch_ = None, None
        with torch_session(self.random_state, self.num_threads):
            self.sessions_ = build_session_table(data)
            self.customer_features_, attribute_sizes = customer_feature_index(data, self.max_cross_levels)
            categories, category_sizes = product_feature_index(data)
            self.product_features_ = torch.from_numpy(categories)
            self._set_candidates(data.candidate_products(self.max_candidates), data.n_products)
            self.net_sizes_ = {
                "n_products": data.n_products,
                "category_sizes": category_sizes,
                "n_affiliates": data.n_affiliates,
                "attribute_sizes": attribute_sizes,
            }
            net = self._new_net()
            opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)

            n_sess = np.diff(self.sessions_["sess_ptr"])
            active = np.flatnonzero(n_sess > 0)
            active = active[rng.permutation(len(active))]
            multi = active[n_sess[active] >= 2]
            n_val = int(round(len(multi) * self.val_fraction)) if len(multi) >= 10 else 0
            val_rows = np.sort(multi[:n_val])
            val_set = np.zeros(data.n_customers, dtype=bool)
            val_set[val_rows] = True
            train_rows = active.copy()
            # small data: shrink the batch so that an epoch has at least min_steps_per_epoch steps
            bc = int(max(16, min(self.batch_customers, np.ceil(len(train_rows) / self.min_steps_per_epoch))))
            # the output layer keeps about four [target positions, candidates] arrays alive
            positions = self.positions_per_customer or self.max_sessions + 1
            bc = max(1, min(bc, batch_rows(len(self.candidates_) * positions, share=4, max_rows=None)))
            logger = EpochLogger(self.name, self.verbose)
            stopper = EarlyStopping(self.patience)
            for epoch in range(1, self.epochs + 1):
                net.train()
                perm = train_rows[rng.permutation(len(train_rows))]
                tot, cnt = 0.0, 0
                for s in range(0, len(perm), bc):
                    rows = perm[s : s + bc]
                    drop = val_set[rows]  # validation customers train without their last session
                    tens, _, first, _, b, t, sess = self._batch(rows, drop)
                    table = net.product_table(self.product_features_)
                    out = net.encode(table, *tens)
                    truncated = first > self.sessions_["sess_ptr"][rows]
                    loss = self._loss(net, table, out, b, t, sess, truncated, rng, self.positions_per_customer)
                    if loss is None:
                        continue
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    tot += float(loss.detach()) * len(rows)
                    cnt += len(rows)
                net.eval()
                val_hr = self._val_hr(net, val_rows) if n_val else float("nan")
                logger(epoch=epoch, train_loss=tot / max(cnt, 1), val_hr10=val_hr)
                c = val_hr if n_val else float(epoch)
                if stopper.update(c, net, epoch):
                    self.validation_hr10_ = val_hr if n_val else None
                    self.best_epoch_ = epoch
                elif stopper.should_stop:
                    break
            stopper.restore_best(net)
            net.eval()
            self.net_ = net
            with torch.no_grad():
                self.product_table_ = net.product_table(self.product_features_).contiguous()
            self.history_ = logger.history
        log.info("[%s] fitted, validation HR@10=%s", self.name, self.validation_hr10_)
        return self

    @torch.no_grad()
    def _val_hr(self, net, rows, k: int = 10) -> float:
        table = net.product_table(self.product_features_)
        hits = 0
        for block in row_batches(rows, table.shape[0], share=4):
            logits = self._logits(net, table, block, drop_last=np.ones(len(block), dtype=bool))
            top = torch.topk(logits, min(k, logits.shape[1]), dim=1).indices.numpy()
            last = self.sessions_["sess_ptr"][block + 1] - 1
            ipos, ilens = _ragged(self.sessions_["item_ptr"], last)
            truth = np.zeros((len(block), table.shape[0]), dtype=bool)
            truth[np.repeat(np.arange(len(block)), ilens), self.sessions_["items"][ipos]] = True
            hits += int(np.take_along_axis(truth, top, 1).any(1).sum())
        return hits / max(len(rows), 1)

    def _logits(self, net, table, rows, drop_last=None):
        """Next-session logits [rows, products]; products outside the output layer get the
        row's lowest candidate logit − 1."""
        tens, seq_len, *_ = self._batch(rows, drop_last)
        out = net.encode(table, *tens)
        h = out[torch.arange(len(rows)), torch.from_numpy(seq_len)]
        cand = self.candidates_
        if len(cand) == table.shape[0]:
            return h @ table.T + net.item_bias
        cand_logits = h @ table[cand].T + net.item_bias[cand]
        floor = cand_logits.min(1, keepdim=True).values - 1.0 if len(cand) else torch.zeros(len(rows), 1)
        return floor.expand(-1, table.shape[0]).clone().index_copy_(1, cand, cand_logits)

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        """float32 [len(customer_idx), n_products]: next-session logits from the full history
        (customer blocks of :func:`batching.batch_rows` rows)."""
        rows = np.asarray(customer_idx, dtype=np.int64)
        out = np.empty((len(rows), self.product_table_.shape[0]), dtype=np.float32)
        with torch_session(self.random_state, self.num_threads), torch.no_grad():
            done = 0
            for block in row_batches(rows, out.shape[1], share=2):
                out[done : done + len(block)] = self._logits(self.net_, self.product_table_, block).numpy()
                done += len(block)
        return out

    # ------------------------------------------------------------------ storage
    def _weights(self) -> dict:
        sessions = {
            key: value if isinstance(value, int) else torch.from_numpy(value) for key, value in self.sessions_.items()
        }
        return {
            "net": self.net_.state_dict(),
            "net_sizes": self.net_sizes_,
            "product_table": self.product_table_,
            "sessions": sessions,
            "customer_features": torch.from_numpy(self.customer_features_),
            "product_features": self.product_features_,
            "candidates": self.candidates_,
        }

    def _set_weights(self, weights: dict) -> None:
        self.net_sizes_ = dict(weights["net_sizes"])
        self.net_ = restore_net(self._new_net, weights["net"], self.random_state, self.num_threads)
        self.product_table_ = weights["product_table"]
        self.sessions_ = {
            key: value if isinstance(value, int) else value.numpy() for key, value in weights["sessions"].items()
        }
        self.customer_features_ = weights["customer_features"].numpy()
        self.product_features_ = weights["product_features"]
        self._set_candidates(weights["candidates"].numpy(), self.product_table_.shape[0])
