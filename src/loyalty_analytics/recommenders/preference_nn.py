"""PreferenceNN — seed 000's preference-score network, extended to rank *unbought* products.

Two towers share one representation:

* customer tower: a bag of the customer's purchased products (log-count weights, input
  dropout) + major-category shares + affiliate shares + activity (log purchase days,
  log distinct products) + demographic embeddings (sex, age band, sex×age, region)
  [+ optional customer-id embedding] → residual MLP → ``u`` (dim);
* product tower: product embedding + major + middle category embeddings → ``v`` (dim),
  plus a product bias.

Two heads, trained jointly:

1. **preference head** (seed 000): ``mu + b_product + b_affiliate + (W u)·v`` regresses the
   0–5 preference score of bought (customer, product, affiliate) triples; the triples are split
   9:1 at random (seeded) and ``validation_rmse`` is the RMSE on the 10 %.
2. **implicit head** (``implicit_head='affiliate'``, default): one softmax per affiliate over
   the products that affiliate sold in the history, logits ``u·v + b_product + b_(affiliate,
   product) + b_(affiliate, major)``; trained as a denoising reconstruction of the customer's
   (affiliate, product) line counts (half the input bag dropped, whole history hidden with
   probability ``cold_start_rate``). ``score`` = log Σ_a share(customer, a) · p(product |
   customer, a) with the customer's affiliate shares of history lines smoothed towards the global
   shares (``mix_prior`` pseudo-lines). ``implicit_head='global'`` is the former single softmax
   over all products; ``implicit_target='window'/'both'`` the internal time split (the customer
   tower sees the lines before ``cut - holdout_days`` and predicts the last ``holdout_days``,
   repeats weigh ``repeat_weight``).

Everything is batched tensor algebra: ``score`` is one (batch × dim) @ (dim × products)
product plus a [batch, affiliates, products] log-softmax. Training is bounded (``epochs``, raised
on small data so that at least ``min_total_steps`` optimiser steps run) with early stopping on the validation split
(preference RMSE on the held-out triples + implicit loss on held-out customers), and one log
line per epoch. See docs/recommenders.md for the measured choices.
"""

from __future__ import annotations

import datetime as _dt
import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

from .torch_utils import (
    EarlyStopping,
    EpochLogger,
    csr_rows_to_bag,
    customer_feature_index,
    customer_feature_sizes,
    history_features,
    log,
    product_feature_index,
    torch_session,
)

__all__ = ["PreferenceNN", "fallback_preference"]


def _ragged_rows(ptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flattened CSR positions of ``rows`` (in row order) and the row lengths (vectorised)."""
    starts = ptr[rows]
    lens = ptr[rows + 1] - starts
    off = np.zeros(len(rows), dtype=np.int64)
    if len(rows) > 1:
        off[1:] = np.cumsum(lens)[:-1]
    return np.repeat(starts - off, lens) + np.arange(int(lens.sum()), dtype=np.int64), lens


def fallback_preference(data) -> pd.DataFrame:
    """A 0–5 preference score when the warehouse did not supply one (tests, other data):
    mean of a buy level (percentile of the line count per affiliate) and a category level
    (percentile of the customer's share of lines in the product's major category)."""
    ln = data.lines
    major = data.product_features["major_idx"].to_numpy()
    g = (
        ln.groupby(["customer_idx", "product_idx", "affiliate_idx"], observed=True)
        .size()
        .rename("n")
        .reset_index()
    )
    g["major"] = major[g["product_idx"].to_numpy()]
    share = g.groupby(["customer_idx", "major"])["n"].transform("sum") / g.groupby("customer_idx")["n"].transform("sum")
    buy_level = np.ceil(g.groupby("affiliate_idx")["n"].rank(pct=True) * 5)
    cat_level = np.ceil(share.groupby(g["affiliate_idx"]).rank(pct=True) * 5)
    g["preference_score"] = ((buy_level + cat_level) / 2).clip(0, 5).astype(np.float64)
    return g[["customer_idx", "product_idx", "affiliate_idx", "preference_score"]]


class _Net(nn.Module):
    def __init__(self, n_products, n_major, n_middle, n_affiliates, n_gender, n_age, n_region, n_customers,
                 dim, use_customer_embedding):
        super().__init__()
        self.n_age = n_age
        self.bag = nn.EmbeddingBag(n_products, dim, mode="sum")
        self.cat = nn.Linear(n_major, dim, bias=False)
        self.aff = nn.Linear(n_affiliates, dim, bias=False)
        self.act = nn.Linear(2, dim)
        self.gender = nn.Embedding(n_gender, dim)
        self.age = nn.Embedding(n_age, dim)
        self.demo = nn.Embedding(n_gender * n_age, dim)
        self.region = nn.Embedding(n_region, dim)
        self.cust = nn.Embedding(n_customers, dim) if use_customer_embedding else None
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.ReLU(), nn.Linear(2 * dim, dim))
        self.item = nn.Embedding(n_products, dim)
        self.major = nn.Embedding(n_major, dim)
        self.middle = nn.Embedding(n_middle, dim)
        self.item_bias = nn.Parameter(torch.zeros(n_products))
        # affiliate-specific product biases (implicit head 'affiliate': one softmax per affiliate)
        self.aff_item_bias = nn.Parameter(torch.zeros(n_affiliates, n_products))
        self.aff_major_bias = nn.Parameter(torch.zeros(n_affiliates, n_major))
        # preference (regression) head
        self.reg = nn.Linear(dim, dim, bias=False)
        self.reg_item_bias = nn.Parameter(torch.zeros(n_products))
        self.reg_aff_bias = nn.Parameter(torch.zeros(n_affiliates))
        self.reg_mu = nn.Parameter(torch.zeros(()))
        for emb in (self.bag, self.gender, self.age, self.demo, self.region, self.item, self.major, self.middle):
            nn.init.normal_(emb.weight, std=0.05)
        if self.cust is not None:
            nn.init.normal_(self.cust.weight, std=0.01)

    def customer(self, bag_idx, bag_off, bag_w, cat, aff, act, demo, cidx):
        h = self.bag(bag_idx, bag_off, per_sample_weights=bag_w) + self.cat(cat) + self.aff(aff) + self.act(act)
        h = h + self.gender(demo[:, 0]) + self.age(demo[:, 1]) + self.region(demo[:, 2])
        h = h + self.demo(demo[:, 0] * self.n_age + demo[:, 1])
        if self.cust is not None:
            h = h + self.cust(cidx)
        return h + self.mlp(self.norm(h))

    def products(self, major_idx, middle_idx):
        return self.item.weight + self.major(major_idx) + self.middle(middle_idx)

    def affiliate_logp(self, u, v, major_idx, sold):
        """log p(product | customer, affiliate): float [B, A, P], one softmax per affiliate over
        the products it sells (``sold`` bool [A, P]); unsold products get ≈ -1e9."""
        base = u @ v.T + self.item_bias  # [B, P]
        ab = self.aff_item_bias + self.aff_major_bias[:, major_idx]  # [A, P]
        logits = (base.unsqueeze(1) + ab.unsqueeze(0)).masked_fill(~sold.unsqueeze(0), -1e9)
        return torch.log_softmax(logits, dim=2)

    def preference(self, u, v, pidx, aidx):
        return self.reg_mu + self.reg_item_bias[pidx] + self.reg_aff_bias[aidx] + (self.reg(u) * v).sum(1)


class _Inputs:
    """Customer-tower inputs (numpy) for one view of the history."""

    def __init__(self, feats: dict, demo: np.ndarray):
        self.bag = feats["bag"]
        self.cat = feats["cat"]
        self.aff = feats["aff"]
        self.act = feats["activity"]
        self.demo = demo

    def batch(self, rows: np.ndarray, bag_dropout: float = 0.0, rng: np.random.Generator | None = None,
              cold_start_rate: float = 0.0):
        idx, off, w = csr_rows_to_bag(self.bag, rows)
        cat, aff, act = self.cat[rows], self.aff[rows], self.act[rows]
        if rng is not None and (bag_dropout > 0 or cold_start_rate > 0) and len(w):
            keep = rng.random(len(w)) >= bag_dropout
            w = w * torch.from_numpy(keep.astype(np.float32) / (1.0 - bag_dropout))
            if cold_start_rate > 0:  # whole history hidden: the model must use demographics
                cold = rng.random(len(rows)) < cold_start_rate
                lens = np.diff(np.append(off.numpy(), len(w)))
                w = w * torch.from_numpy(np.repeat(~cold, lens).astype(np.float32))
                cat, aff, act = (x * (~cold)[:, None].astype(np.float32) for x in (cat, aff, act))
        return (
            idx,
            off,
            w,
            torch.from_numpy(np.ascontiguousarray(cat)),
            torch.from_numpy(np.ascontiguousarray(aff)),
            torch.from_numpy(np.ascontiguousarray(act)),
            torch.from_numpy(self.demo[rows]),
            torch.from_numpy(rows.astype(np.int64)),
        )


class PreferenceNN:
    """Seed 000 preference-score network with an implicit next-purchase head (see module doc).

    Parameters: ``dim`` embedding size; ``epochs`` maximum epochs; ``patience`` early-stopping
    patience (epochs without validation improvement); ``batch_customers`` customers per step
    for the implicit head (preference triples are spread evenly over the same steps);
    ``lr``, ``weight_decay`` (AdamW); ``holdout_days`` length of the internal time split
    that makes next-purchase targets; ``repeat_weight`` target weight of products the
    customer already had (new products weigh 1); ``bag_dropout`` input dropout on the
    product bag; ``pref_weight`` weight of the preference MSE in the joint loss;
    ``use_customer_embedding`` add a free per-customer embedding (seed 000 had one);
    ``val_fraction`` share of triples / customers held out; ``min_steps_per_epoch`` (small data:
    the customer batch shrinks so an epoch has at least this many steps); ``min_total_steps`` (small
    data: epochs are raised to reach this many steps); ``implicit_head`` 'affiliate' (per-affiliate
    softmax mixture, default) or 'global'; ``mix_prior`` pseudo-lines of global affiliate shares in
    the mixture weights; ``target_weight`` 'count' / 'log' / 'binary' weighting of the
    reconstruction targets; ``kept_target_weight`` (<1: products left in the dropped-out input
    weigh less in the target, cloze-style); ``num_threads`` torch CPU threads.
    """

    name = "preference_nn"

    def __init__(
        self,
        dim: int = 48,
        epochs: int = 5,
        patience: int = 3,
        batch_customers: int = 256,
        lr: float = 3e-3,
        weight_decay: float = 1e-5,
        holdout_days: int = 60,
        repeat_weight: float = 0.3,
        bag_dropout: float = 0.5,
        pref_weight: float = 1.0,
        use_customer_embedding: bool = False,
        implicit_target: str = "history",
        history_weight: float = 0.1,
        cold_start_rate: float = 0.15,
        implicit_head: str = "affiliate",
        mix_prior: float = 5.0,
        target_weight: str = "count",
        kept_target_weight: float = 1.0,
        val_fraction: float = 0.1,
        min_steps_per_epoch: int = 30,
        min_total_steps: int = 560,
        num_threads: int = 1,
        verbose: bool = True,
    ):
        self.dim = dim
        self.epochs = epochs
        self.patience = patience
        self.batch_customers = batch_customers
        self.lr = lr
        self.weight_decay = weight_decay
        self.holdout_days = holdout_days
        self.repeat_weight = repeat_weight
        self.bag_dropout = bag_dropout
        self.pref_weight = pref_weight
        self.use_customer_embedding = use_customer_embedding
        self.implicit_target = implicit_target
        self.history_weight = history_weight
        self.cold_start_rate = cold_start_rate
        self.implicit_head = implicit_head
        self.mix_prior = mix_prior
        self.target_weight = target_weight
        self.kept_target_weight = kept_target_weight
        self.val_fraction = val_fraction
        self.min_steps_per_epoch = min_steps_per_epoch
        self.min_total_steps = min_total_steps
        self.num_threads = num_threads
        self.verbose = verbose
        self.validation_rmse: float | None = None
        self.baseline_rmse: float | None = None  # RMSE of predicting the training mean
        self.history: list[dict] = []
        self.fit_seconds: float | None = None

    # ------------------------------------------------------------------ data prep
    def _prepare(self, data):
        ln = data.lines
        self.n_customers, self.n_products, self.n_affiliates = data.n_customers, data.n_products, data.n_affiliates
        major, middle, n_major, n_middle = product_feature_index(data)
        self._major_idx = torch.from_numpy(major)
        self._middle_idx = torch.from_numpy(middle)
        self._sizes = dict(n_major=n_major, n_middle=n_middle)
        demo = customer_feature_index(data)
        self._gsz = customer_feature_sizes(data)

        cust = ln["customer_idx"].to_numpy().astype(np.int64)
        prod = ln["product_idx"].to_numpy().astype(np.int64)
        aff = ln["affiliate_idx"].to_numpy().astype(np.int64)
        day = (ln["purchased_at"].to_numpy().astype("datetime64[D]").astype(np.int64))
        cut_day = np.datetime64(pd.Timestamp(data.cut_date).date(), "D").astype(np.int64)
        kw = dict(n_customers=self.n_customers, n_products=self.n_products, n_affiliates=self.n_affiliates,
                  major=major, n_major=n_major)
        full = history_features(cust, prod, aff, day, **kw)
        self._full = _Inputs(full, demo)

        # internal time split: inputs before t0, next-purchase targets in [t0, cut]
        t0 = cut_day - int(self.holdout_days) + 1
        early = day < t0
        if early.sum() == 0 or (~early).sum() == 0:  # too short a history: reconstruct instead
            early = np.ones(len(day), dtype=bool)
            late = early
        else:
            late = ~early
        A, P = self.n_affiliates, self.n_products
        by_aff = self.implicit_head == "affiliate"

        def _target(sel, had=None):
            """csr [n_customers, P] (global head) or [n_customers, A * P] (affiliate head) of
            line counts in ``sel`` (weighted per target_weight; repeats of ``had`` down-weighted)."""
            col = aff[sel] * P + prod[sel] if by_aff else prod[sel]
            t = sp.csr_matrix((np.ones(int(sel.sum()), dtype=np.float32), (cust[sel], col)),
                              shape=(self.n_customers, A * P if by_aff else P))
            t.sum_duplicates()
            if self.target_weight == "binary":
                t.data[:] = 1.0
            elif self.target_weight == "log":
                t.data = np.log1p(t.data).astype(np.float32)
            if had is not None:
                c = t.tocoo()
                rep = np.asarray(had[c.row, c.col % P] > 0).ravel()
                c.data = np.where(rep, c.data * self.repeat_weight, c.data).astype(np.float32)
                t = c.tocsr()
            return t

        if self.implicit_target == "history":  # denoising reconstruction of the whole history
            self._pre = self._full
            tgt = _target(np.ones(len(cust), dtype=bool))
        else:
            pre = history_features(cust[early], prod[early], aff[early], day[early], **kw)
            self._pre = _Inputs(pre, demo)
            tgt = _target(late, had=pre["counts"])
            if self.implicit_target == "both":  # window targets + history reconstruction
                hist = _target(early)
                hist.data *= self.history_weight
                tgt = (tgt + hist).tocsr()
        sold = np.asarray(data.assortment, dtype=bool).copy()
        sold[~sold.any(axis=1)] = True  # affiliate without product lines: unrestricted
        self._sold = torch.from_numpy(sold)
        # affiliate mixture weights: smoothed share of the customer's history lines per affiliate
        ca = np.zeros((self.n_customers, A), dtype=np.float64)
        np.add.at(ca, (cust, aff), 1.0)
        g = ca.sum(0) + 1e-9
        g /= g.sum()
        mix = (ca + self.mix_prior * g[None, :]) / (ca.sum(1, keepdims=True) + self.mix_prior)
        self._log_mix = torch.from_numpy(np.log(np.maximum(mix, 1e-12)).astype(np.float32))
        tgt.eliminate_zeros()
        tgt.sort_indices()
        self._targets = tgt

        pref = data.preference if data.preference is not None and len(data.preference) else fallback_preference(data)
        self._pref = (
            pref["customer_idx"].to_numpy().astype(np.int64),
            pref["product_idx"].to_numpy().astype(np.int64),
            pref["affiliate_idx"].to_numpy().astype(np.int64),
            pref["preference_score"].to_numpy().astype(np.float32),
        )

    # ------------------------------------------------------------------ fit
    def fit(self, data, seed: int = 0) -> "PreferenceNN":
        t_start = time.perf_counter()
        rng = np.random.default_rng(seed)
        with torch_session(seed, self.num_threads):
            self._prepare(data)
            ng, na, nr = self._gsz
            net = _Net(self.n_products, self._sizes["n_major"], self._sizes["n_middle"], self.n_affiliates,
                       ng, na, nr, self.n_customers, self.dim, self.use_customer_embedding)
            opt = torch.optim.AdamW(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)

            # splits
            pc, pp, pa, py = self._pref
            n_pairs = len(py)
            perm = rng.permutation(n_pairs)
            n_val = int(round(n_pairs * self.val_fraction)) if n_pairs >= 10 else 0
            val_pairs, train_pairs = perm[:n_val], perm[n_val:]
            mu = float(py[train_pairs].mean()) if len(train_pairs) else 0.0
            with torch.no_grad():
                net.reg_mu.fill_(mu)
            self.baseline_rmse = float(np.sqrt(np.mean((py[val_pairs] - mu) ** 2))) if n_val else None

            active = np.flatnonzero(np.diff(self._targets.indptr) > 0)
            active = active[rng.permutation(len(active))]
            n_vc = int(round(len(active) * self.val_fraction)) if len(active) >= 10 else 0
            val_cust = np.sort(active[:n_vc])
            is_val_cust = np.zeros(self.n_customers, dtype=bool)
            is_val_cust[val_cust] = True
            # training pairs grouped by customer: one customer-tower pass per step serves both heads
            tp = train_pairs[np.argsort(pc[train_pairs], kind="stable")]
            pair_ptr = np.zeros(self.n_customers + 1, dtype=np.int64)
            pair_ptr[1:] = np.cumsum(np.bincount(pc[tp], minlength=self.n_customers))
            step_cust = np.union1d(active, np.unique(pc[train_pairs]))

            # small data: shrink the batch so that an epoch has at least min_steps_per_epoch steps
            bc = int(max(16, min(self.batch_customers, np.ceil(len(step_cust) / self.min_steps_per_epoch))))
            n_steps = max(1, int(np.ceil(len(step_cust) / bc)))
            n_train_imp = int(np.sum(~is_val_cust[active]))
            logger = EpochLogger(self.name, self.verbose)
            stopper = EarlyStopping(self.patience)
            ref = None
            # small data: more epochs so that training runs at least min_total_steps steps
            n_epochs = max(self.epochs, int(np.ceil(self.min_total_steps / n_steps)))
            for epoch in range(1, n_epochs + 1):
                net.train()
                cperm = step_cust[rng.permutation(len(step_cust))]
                tot_imp = tot_mse = 0.0
                for s in range(n_steps):
                    rows = cperm[s * bc:(s + 1) * bc]
                    if self.implicit_target == "history":
                        inp = self._pre.batch(rows, self.bag_dropout, rng, self.cold_start_rate)
                        u = net.customer(*inp)
                        u_full = u
                        tmul = None
                        if self.kept_target_weight != 1.0:  # cloze: products left in the input weigh less
                            idx, off, w = inp[:3]
                            lens = np.diff(np.append(off.numpy(), len(w)))
                            r_of = torch.from_numpy(np.repeat(np.arange(len(rows)), lens))
                            tmul = torch.ones(len(rows), self.n_products)
                            tmul[r_of, idx] = torch.where(w > 0, torch.tensor(self.kept_target_weight), torch.tensor(1.0))
                    else:
                        u = net.customer(*self._pre.batch(rows, self.bag_dropout, rng, self.cold_start_rate))
                        tmul = None
                        u_full = net.customer(*self._full.batch(rows, self.bag_dropout, rng))
                    loss = torch.zeros(())
                    imp_rows = np.flatnonzero(~is_val_cust[rows] & (np.diff(self._targets.indptr)[rows] > 0))
                    if len(imp_rows):
                        v = net.products(self._major_idx, self._middle_idx)
                        imp = self._implicit_nll(net, u[torch.from_numpy(imp_rows)], v, rows[imp_rows],
                                                 None if tmul is None else tmul[torch.from_numpy(imp_rows)]).mean()
                        loss = loss + imp
                        tot_imp += float(imp.detach()) * len(imp_rows)
                    ppos, plen = _ragged_rows(pair_ptr, rows)
                    if len(ppos):
                        prow = tp[ppos]
                        urow = torch.from_numpy(np.repeat(np.arange(len(rows)), plen))
                        pidx = torch.from_numpy(pp[prow])
                        v2 = net.item(pidx) + net.major(self._major_idx[pidx]) + net.middle(self._middle_idx[pidx])
                        pred = net.preference(u_full[urow], v2, pidx, torch.from_numpy(pa[prow]))
                        mse = torch.mean((pred - torch.from_numpy(py[prow])) ** 2)
                        loss = loss + self.pref_weight * mse
                        tot_mse += float(mse.detach()) * len(prow)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                train_imp = tot_imp / max(n_train_imp, 1)
                train_mse = tot_mse / max(len(train_pairs), 1)
                net.eval()
                val_rmse = self._val_rmse(net, val_pairs) if n_val else float("nan")
                val_imp = self._val_implicit(net, val_cust) if n_vc else float("nan")
                logger(epoch=epoch, train_implicit=train_imp, train_mse=train_mse, val_rmse=val_rmse,
                       val_implicit=val_imp)
                # early stopping on the validation split (both heads, relative to epoch 1)
                crit = np.array([val_rmse, val_imp], dtype=float)
                if ref is None:
                    ref = np.where(np.isfinite(crit) & (crit > 0), crit, 1.0)
                c = float(np.nansum(crit / ref)) if np.isfinite(crit).any() else -epoch
                if stopper.update(-c, net, epoch):  # lower criterion is better
                    self.validation_rmse = val_rmse if n_val else None
                    self.best_epoch = epoch
                elif stopper.should_stop:
                    break
            stopper.restore_best(net)
            net.eval()
            self.history = logger.history
            self._net = net
            with torch.no_grad():
                self._v = net.products(self._major_idx, self._middle_idx).contiguous()
                self._b = net.item_bias.detach().clone()
                self._ab = (net.aff_item_bias + net.aff_major_bias[:, self._major_idx]).detach().clone()
        self._seed = seed
        self.fit_seconds = time.perf_counter() - t_start
        log.info("[%s] fitted in %.1fs, validation_rmse=%s (mean-predictor %s)", self.name, self.fit_seconds,
                 self.validation_rmse, self.baseline_rmse)
        return self

    @torch.no_grad()
    def _val_rmse(self, net, val_pairs, bs: int = 65536) -> float:
        pc, pp, pa, py = self._pref
        se = 0.0
        for s in range(0, len(val_pairs), bs):
            prow = val_pairs[s:s + bs]
            pred = self._predict_pairs(net, pc[prow], pp[prow], pa[prow])
            se += float(((pred - torch.from_numpy(py[prow])) ** 2).sum())
        return float(np.sqrt(se / len(val_pairs)))

    @torch.no_grad()
    def _val_implicit(self, net, rows, bs: int = 4096) -> float:
        v = net.products(self._major_idx, self._middle_idx)
        tot = 0.0
        for s in range(0, len(rows), bs):
            r = rows[s:s + bs]
            tot += float(self._implicit_nll(net, net.customer(*self._pre.batch(r)), v, r).sum())
        return tot / len(rows)

    def _implicit_nll(self, net, u, v, rows, tmul=None) -> torch.Tensor:
        """Per-customer weighted multinomial NLL of the implicit targets of ``rows``
        (``tmul`` float [B, P]: optional per-product target multipliers)."""
        y = torch.from_numpy(self._targets[rows].toarray())
        if tmul is not None:
            y = (y.reshape(len(rows), -1, self.n_products) * tmul.unsqueeze(1)).reshape(len(rows), -1)
        if self.implicit_head == "affiliate":
            logp = net.affiliate_logp(u, v, self._major_idx, self._sold).reshape(len(rows), -1)
        else:
            logp = torch.log_softmax(u @ v.T + net.item_bias, 1)
        return -(y * logp).sum(1) / y.sum(1)

    def _predict_pairs(self, net, c, p, a):
        uc, inv = np.unique(c, return_inverse=True)
        u = net.customer(*self._full.batch(uc))[torch.from_numpy(inv)]
        pidx = torch.from_numpy(np.asarray(p, dtype=np.int64))
        v = net.item(pidx) + net.major(self._major_idx[pidx]) + net.middle(self._middle_idx[pidx])
        return net.preference(u, v, pidx, torch.from_numpy(np.asarray(a, dtype=np.int64)))

    # ------------------------------------------------------------------ inference
    def predict_preference(self, customer_idx, product_idx, affiliate_idx) -> np.ndarray:
        """Predicted 0–5 preference score for (customer, product, affiliate) triples (clipped)."""
        with torch_session(self._seed, self.num_threads), torch.no_grad():
            out = self._predict_pairs(self._net, np.asarray(customer_idx, dtype=np.int64),
                                      np.asarray(product_idx, dtype=np.int64),
                                      np.asarray(affiliate_idx, dtype=np.int64))
        return out.clamp(0, 5).numpy().astype(np.float32)

    def customer_vectors(self, customer_idx: np.ndarray) -> torch.Tensor:
        rows = np.asarray(customer_idx, dtype=np.int64)
        with torch.no_grad():
            return self._net.customer(*self._full.batch(rows))

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        """float32 [len(customer_idx), n_products]: implicit next-purchase logits from the full
        history (customer tower · product tower + product bias)."""
        rows = np.asarray(customer_idx, dtype=np.int64)
        with torch_session(self._seed, self.num_threads), torch.no_grad():
            u = self._net.customer(*self._full.batch(rows))
            if self.implicit_head != "affiliate":
                return (u @ self._v.T + self._b).numpy().astype(np.float32, copy=False)
            # log of the affiliate mixture: sum_a share(customer, a) * p(product | customer, a)
            logits = (u @ self._v.T + self._b).unsqueeze(1) + self._ab.unsqueeze(0)
            logp = torch.log_softmax(logits.masked_fill(~self._sold.unsqueeze(0), -1e9), dim=2)
            out = torch.logsumexp(logp + self._log_mix[torch.from_numpy(rows)].unsqueeze(2), dim=1)
            return out.numpy().astype(np.float32, copy=False)
