"""Session-based sequential recommender (seed 003, SDM-like), GRU or causal self-attention: the
estimator (training, scoring, storage). The session tokens and the network that reads them are
``sequential_net`` (:func:`build_session_table`, :func:`session_batch`, :class:`SessionNet`).

The network's output ``o_k`` (+ the features vector) predicts the products of session ``k``
(multi-label: softmax over the candidate products, averaged over the session's distinct
candidates), so one forward pass trains every (prefix → next session) example of a customer, the
features-only prefix included (cold start). Each epoch uses a seeded random subset of
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

from .base import RecommenderBase
from .batching import batch_rows, row_batches
from .sequential_net import SessionNet, build_session_table, ragged, session_batch
from .torch_utils import (
    EarlyStopping,
    EpochLogger,
    customer_feature_index,
    log,
    product_feature_index,
    restore_net,
    torch_session,
)

__all__ = ["SequentialRecommender"]


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
        return session_batch(self.sessions_, self.customer_features_, self.max_sessions, rows, drop_last)

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
        ipos, _ = ragged(self.sessions_["item_ptr"], sess[idx])
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
    def _new_net(self) -> SessionNet:
        s = self.net_sizes_
        return SessionNet(
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
            ipos, ilens = ragged(self.sessions_["item_ptr"], last)
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
