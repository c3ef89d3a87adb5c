"""PreferenceNN — seed 000's embedding network: customer and product embeddings plus customer
features (sex, age band, region) and product categories.

* customer vector ``u_i = e_i + demo(sex) + demo(age) + demo(sex×age) + demo(region)``: a free
  customer embedding ``e_i`` on top of a demographic prior; ``e_i`` carries an L2 penalty
  (``customer_l2``, a Gaussian prior around the demographic mean), so a customer with little
  history stays close to what people like them buy and one without history *is* the prior;
* product vector ``v_j = e_j + major(j) + middle(j)`` with an L2 penalty on the three tables
  (``product_l2``), and a product bias ``b_j``.

Two heads on the same vectors:

1. **purchase head** (what ``score`` ranks by): one softmax *per affiliate* over the products
   that affiliate sold in the history, ``p(j | i, a) ∝ exp(u_i·v_j + b_j + θ[a, major(j)])``,
   fitted by penalised maximum likelihood on the customer's history lines (a multinomial-logit
   factor model). The per-affiliate normalisers are computed as ``exp(u·v + b) @ W`` with
   ``W[a, j] = exp(θ[a, major(j)])·[a sells j]``, so no [customers, affiliates, products] tensor
   is ever built. After the optimiser epochs every customer vector is re-fitted with the
   products fixed (L-BFGS, ``refit_iterations``): each customer's penalised likelihood is
   then at its optimum, not where the last epoch left it.
2. **preference head** (seed 000): ``mu + b'_j + b'_a + MLP([u_i, v_j, u_i*v_j])`` regresses the
   0–5 preference score of bought (customer, product, affiliate) triples, trained afterwards on
   the fitted vectors (trained jointly, its gradient cost the purchase ranking 0.02 nDCG@10);
   the triples are split 9:1 at random (seeded), early stopping on the 10 %, and
   ``validation_rmse_`` is the RMSE there.

``score`` = ``log Σ_a π_ia · p(j | i, a)``: the affiliate mixture weights ``π_ia`` are the
customer's receipts per affiliate (smoothed with ``mix_prior_receipts`` pseudo-receipts of the
global shares) times the mean lines per receipt at that affiliate — receipts are a less noisy
measure of where a customer shops than lines, which come in baskets.

Training is bounded: ``epochs`` at least, raised on small data until ``min_total_steps`` Adam
steps ran, with a cosine learning-rate decay; one log line per epoch (every n-th printed).
See docs/recommenders.md for the measured choices and what was tried before.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

from .base import RecommenderBase
from .torch_utils import (
    EarlyStopping,
    EpochLogger,
    customer_feature_index,
    customer_feature_sizes,
    log,
    product_feature_index,
    torch_session,
)

__all__ = ["PreferenceNN", "fallback_preference"]


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


@dataclass
class _TrainingSet:
    """Sufficient statistics of the history that only training reads (not kept after fit)."""

    n_customers: int
    n_products: int
    n_affiliates: int
    lines: sp.csr_matrix  # [C, P] history lines per product
    lines_aff_major: sp.csr_matrix  # [C, A * n_major] lines per affiliate × major category
    lines_aff: torch.Tensor  # [C, A] lines per affiliate
    n_lines: np.ndarray  # [C] lines per customer
    sold: torch.Tensor  # [A, P] 1.0 where the affiliate sold the product
    pref: tuple  # preference triples (customer, product, affiliate, score)


class _Net(nn.Module):
    def __init__(self, n_customers, n_products, n_major, n_middle, n_affiliates, n_gender, n_age, n_region, dim):
        super().__init__()
        self.n_age = n_age
        self.customer = nn.Embedding(n_customers, dim)
        nn.init.zeros_(self.customer.weight)  # no history -> the demographic prior
        self.gender = nn.Embedding(n_gender, dim)
        self.age = nn.Embedding(n_age, dim)
        self.gender_age = nn.Embedding(n_gender * n_age, dim)
        self.region = nn.Embedding(n_region, dim)
        self.item = nn.Embedding(n_products, dim)
        self.major = nn.Embedding(n_major, dim)
        self.middle = nn.Embedding(n_middle, dim)
        for emb in (self.gender, self.age, self.gender_age, self.region, self.item, self.major, self.middle):
            nn.init.normal_(emb.weight, std=0.05)
        self.item_bias = nn.Parameter(torch.zeros(n_products))
        self.affiliate_major = nn.Parameter(torch.zeros(n_affiliates, n_major))  # θ[a, major]
        # preference (regression) head on the fitted vectors: MLP of [u, v, u*v] + biases
        self.reg = nn.Sequential(nn.Linear(3 * dim, 4 * dim), nn.ReLU(), nn.Linear(4 * dim, 1))
        self.reg_item_bias = nn.Parameter(torch.zeros(n_products))
        self.reg_aff_bias = nn.Parameter(torch.zeros(n_affiliates))
        self.reg_mu = nn.Parameter(torch.zeros(()))

    def prior(self, demo: torch.Tensor) -> torch.Tensor:
        """Demographic part of the customer vector: float [B, dim]."""
        return (self.gender(demo[:, 0]) + self.age(demo[:, 1]) + self.region(demo[:, 2])
                + self.gender_age(demo[:, 0] * self.n_age + demo[:, 1]))

    def products(self, major_idx, middle_idx, pidx: torch.Tensor | None = None) -> torch.Tensor:
        """Product vectors v = product + major + middle embeddings: all products, or ``pidx``."""
        if pidx is None:
            return self.item.weight + self.major(major_idx) + self.middle(middle_idx)
        return self.item(pidx) + self.major(major_idx[pidx]) + self.middle(middle_idx[pidx])

    def preference(self, u, v, pidx, aidx):
        return (self.reg_mu + self.reg_item_bias[pidx] + self.reg_aff_bias[aidx]
                + self.reg(torch.cat([u, v, u * v], 1)).squeeze(1))

    def preference_parameters(self) -> list:
        return [*self.reg.parameters(), self.reg_item_bias, self.reg_aff_bias, self.reg_mu]

    def purchase_parameters(self) -> list:
        head = {id(p) for p in self.preference_parameters()}
        return [p for p in self.parameters() if id(p) not in head]


def _log_normalisers(base: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """log Z[i, a] = log Σ_j exp(base[i, j]) · weights[a, j] (stable): float [B, A]."""
    top = base.max(1, keepdim=True).values.detach()
    return torch.log(torch.exp(base - top) @ weights.T + 1e-30) + top


class PreferenceNN(RecommenderBase):
    """Seed 000's embedding network with a per-affiliate purchase head (see module doc).

    Parameters: ``dim`` embedding size; ``epochs`` minimum epochs; ``min_total_steps`` (small
    data: epochs are raised until this many Adam steps ran); ``batch_customers`` customers per
    step (``min_steps_per_epoch``: small data shrinks the batches of both heads so an epoch has
    at least this many steps); ``lr`` Adam learning rate (cosine decay to 0); ``customer_l2`` penalty on the
    free customer embeddings (per customer, against that customer's history lines);
    ``product_l2`` penalty on the product / category embeddings; ``refit_iterations`` L-BFGS
    iterations re-fitting the customer vectors at the end (0: off); ``refit_batch`` customers
    per re-fit block; ``mix_prior_receipts`` pseudo-receipts of the global affiliate shares in
    the mixture weights; ``preference_epochs`` / ``preference_batch`` / ``preference_lr`` the
    preference head's training (early stopping, patience 2); ``val_fraction`` share of
    preference triples held out; ``num_threads`` torch CPU threads; ``random_state`` seeds the
    initialisation, batch order and the 9:1 split.

    Learned: ``net_`` (weights), ``customer_features_`` / ``major_idx_`` / ``middle_idx_`` (feature
    indices), ``mixture_`` (affiliate mixture weights), ``product_vectors_`` and
    ``affiliate_weights_`` (the product side ``score`` uses), ``history_`` and
    ``preference_history_`` (one record per epoch), ``validation_rmse_`` and ``baseline_rmse_``
    (mean predictor), plus the training record of ``RecommenderBase``.
    """

    name = "preference_nn"
    weights_file = "weights.pt"
    _summary_attributes = ("validation_rmse_", "baseline_rmse_", "history_", "preference_history_")

    def __init__(
        self,
        dim: int = 12,
        epochs: int = 25,
        min_total_steps: int = 960,
        batch_customers: int = 1024,
        min_steps_per_epoch: int = 12,
        lr: float = 0.03,
        customer_l2: float = 1.0,
        product_l2: float = 10.0,
        refit_iterations: int = 15,
        refit_batch: int = 4096,
        mix_prior_receipts: float = 3.0,
        preference_epochs: int = 6,
        preference_batch: int = 32768,
        preference_lr: float = 2e-2,
        val_fraction: float = 0.1,
        num_threads: int = 1,
        verbose: bool = True,
        random_state: int = 0,
    ):
        self.dim = dim
        self.epochs = epochs
        self.min_total_steps = min_total_steps
        self.batch_customers = batch_customers
        self.min_steps_per_epoch = min_steps_per_epoch
        self.lr = lr
        self.customer_l2 = customer_l2
        self.product_l2 = product_l2
        self.refit_iterations = refit_iterations
        self.refit_batch = refit_batch
        self.mix_prior_receipts = mix_prior_receipts
        self.preference_epochs = preference_epochs
        self.preference_batch = preference_batch
        self.preference_lr = preference_lr
        self.val_fraction = val_fraction
        self.num_threads = num_threads
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ data prep
    def _prepare(self, data) -> _TrainingSet:
        """Feature indices and mixture weights (kept: scoring needs them) and the training set."""
        ln = data.lines
        C, P, A = data.n_customers, data.n_products, data.n_affiliates
        major, middle, n_major, n_middle = product_feature_index(data)
        self.major_idx_ = torch.from_numpy(major)
        self.middle_idx_ = torch.from_numpy(middle)
        self.customer_features_ = torch.from_numpy(customer_feature_index(data))
        n_gender, n_age, n_region = customer_feature_sizes(data)
        self.net_sizes_ = dict(n_customers=C, n_products=P, n_major=n_major, n_middle=n_middle, n_affiliates=A,
                               n_gender=n_gender, n_age=n_age, n_region=n_region)

        cust = ln["customer_idx"].to_numpy().astype(np.int64)
        prod = ln["product_idx"].to_numpy().astype(np.int64)
        aff = ln["affiliate_idx"].to_numpy().astype(np.int64)
        ones = np.ones(len(cust), dtype=np.float32)
        # sufficient statistics of the purchase head's likelihood, per customer
        lines = sp.csr_matrix((ones, (cust, prod)), shape=(C, P))  # lines per product
        lines.sum_duplicates()
        lines_aff_major = sp.csr_matrix((ones, (cust, aff * n_major + major[prod])), shape=(C, A * n_major))
        lines_aff_major.sum_duplicates()
        lines_aff = np.zeros((C, A), dtype=np.float32)
        np.add.at(lines_aff, (cust, aff), 1.0)

        sold = np.asarray(data.assortment, dtype=bool).copy()
        sold[~sold.any(axis=1)] = True  # affiliate without product lines: unrestricted
        self.mixture_ = self._mixture_weights(ln, lines_aff, C, A)

        pref = data.preference if data.preference is not None and len(data.preference) else fallback_preference(data)
        triples = (pref["customer_idx"].to_numpy().astype(np.int64), pref["product_idx"].to_numpy().astype(np.int64),
                   pref["affiliate_idx"].to_numpy().astype(np.int64),
                   pref["preference_score"].to_numpy().astype(np.float32))
        return _TrainingSet(
            n_customers=C, n_products=P, n_affiliates=A, lines=lines, lines_aff_major=lines_aff_major,
            lines_aff=torch.from_numpy(lines_aff), n_lines=lines_aff.sum(1),
            sold=torch.from_numpy(sold.astype(np.float32)), pref=triples,
        )

    def _mixture_weights(self, ln, lines_aff: np.ndarray, C: int, A: int) -> torch.Tensor:
        """Receipts (sessions) per affiliate, smoothed with the global shares, × lines per receipt."""
        visits = ln[["customer_idx", "affiliate_idx", "session_id"]].drop_duplicates()
        receipts = np.zeros((C, A), dtype=np.float64)
        np.add.at(receipts, (visits["customer_idx"].to_numpy(), visits["affiliate_idx"].to_numpy()), 1.0)
        total = receipts.sum(0)
        share = total / total.sum() if total.sum() > 0 else np.full(A, 1.0 / A)
        lines_per_receipt = np.where(total > 0, lines_aff.sum(0) / np.maximum(total, 1.0), 1.0)
        mix = (receipts + self.mix_prior_receipts * share) / (receipts.sum(1, keepdims=True) + self.mix_prior_receipts)
        mix = mix * lines_per_receipt
        mix /= mix.sum(1, keepdims=True)
        return torch.from_numpy(mix.astype(np.float32))

    def _affiliate_weights(self, net, sold: torch.Tensor) -> torch.Tensor:
        """W[a, j] = exp(θ[a, major(j)]) · [a sold j]: float [A, P]."""
        return torch.exp(net.affiliate_major[:, self.major_idx_]) * sold

    def _purchase_nll(self, net, t: _TrainingSet, rows: np.ndarray, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Summed negative log-likelihood of the history lines of ``rows`` under the
        per-affiliate softmax: -Σ lines·(u·v + b + θ) + Σ_a lines_a · log Z_a."""
        base = u @ v.T + net.item_bias
        log_z = _log_normalisers(base, self._affiliate_weights(net, t.sold))
        lines = torch.from_numpy(t.lines[rows].toarray())
        aff_major = torch.from_numpy(t.lines_aff_major[rows].toarray()).view(len(rows), t.n_affiliates, -1)
        r = torch.from_numpy(rows)
        return (-(lines * base).sum() - (aff_major * net.affiliate_major).sum()
                + (t.lines_aff[r] * log_z).sum())

    def _new_net(self) -> _Net:
        s = self.net_sizes_
        return _Net(s["n_customers"], s["n_products"], s["n_major"], s["n_middle"], s["n_affiliates"],
                    s["n_gender"], s["n_age"], s["n_region"], self.dim)

    # ------------------------------------------------------------------ fit
    def _fit(self, data) -> None:
        rng = np.random.default_rng(self.random_state)
        with torch_session(self.random_state, self.num_threads):
            t = self._prepare(data)
            net = self._new_net()
            active = np.flatnonzero(t.n_lines > 0)
            self.history_ = self._fit_purchase_head(net, t, active, rng)
            refit_started = time.perf_counter()
            self._refit_customers(net, t, active)
            if self.verbose and self.refit_iterations:
                print(f"[{self.name}] customer vectors re-fitted (L-BFGS, {self.refit_iterations} iterations) in "
                      f"{time.perf_counter() - refit_started:.1f} s", flush=True)
            self.preference_history_ = self._fit_preference_head(net, t, rng)
            net.eval()
            self.net_ = net
            with torch.no_grad():
                self.product_vectors_ = net.products(self.major_idx_, self.middle_idx_).detach().clone()
                self.affiliate_weights_ = self._affiliate_weights(net, t.sold).detach().clone()
        log.info("[%s] fitted, validation_rmse=%s (mean-predictor %s)", self.name, self.validation_rmse_,
                 self.baseline_rmse_)

    def _fit_purchase_head(self, net, t: _TrainingSet, active: np.ndarray, rng: np.random.Generator) -> list[dict]:
        """Adam epochs over customer batches on the penalised purchase likelihood."""
        bc = int(max(16, min(self.batch_customers, np.ceil(len(active) / self.min_steps_per_epoch))))
        n_steps = max(1, int(np.ceil(len(active) / bc)))
        n_epochs = max(self.epochs, int(np.ceil(self.min_total_steps / n_steps)))
        opt = torch.optim.Adam(net.purchase_parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n_epochs * n_steps)
        product_tables = (net.item, net.major, net.middle)
        logger = EpochLogger(self.name, self.verbose, print_every=max(1, n_epochs // 10))
        total_lines = float(max(t.n_lines.sum(), 1.0))
        for epoch in range(1, n_epochs + 1):
            order = active[rng.permutation(len(active))]
            tot_nll = 0.0
            for s in range(n_steps):
                rows = order[s * bc:(s + 1) * bc]
                r = torch.from_numpy(rows)
                u = self._customer_vectors(net, rows)
                nll = self._purchase_nll(net, t, rows, u, net.products(self.major_idx_, self.middle_idx_))
                # MAP penalties: each customer's own; the products' share of this batch
                penalty = self.customer_l2 * net.customer(r).pow(2).sum()
                penalty = penalty + self.product_l2 * (len(rows) / len(active)) * sum(
                    table.weight.pow(2).sum() for table in product_tables)
                loss = (nll + penalty) / float(max(t.n_lines[rows].sum(), 1.0))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                tot_nll += float(nll.detach())
            logger(epoch=epoch, last=epoch == n_epochs, train_nll_per_line=tot_nll / total_lines)
        return logger.history

    def _refit_customers(self, net, t: _TrainingSet, active: np.ndarray) -> None:
        """Penalised maximum likelihood of every customer's embedding with the product side
        fixed, block by block (customers are independent given the products)."""
        if not self.refit_iterations or not len(active):
            return
        with torch.no_grad():
            v = net.products(self.major_idx_, self.middle_idx_).detach()
            weights = self._affiliate_weights(net, t.sold).detach()
            bias = net.item_bias.detach()
        for s in range(0, len(active), self.refit_batch):
            rows = active[s:s + self.refit_batch]
            r = torch.from_numpy(rows)
            with torch.no_grad():
                prior = net.prior(self.customer_features_[r])
            lines = torch.from_numpy(t.lines[rows].toarray())
            lines_aff = t.lines_aff[r]
            emb = net.customer.weight.detach()[r].clone().requires_grad_(True)
            opt = torch.optim.LBFGS([emb], lr=1.0, max_iter=self.refit_iterations, line_search_fn="strong_wolfe")

            def closure(emb=emb, prior=prior, lines=lines, lines_aff=lines_aff):
                opt.zero_grad()
                base = (emb + prior) @ v.T + bias
                loss = (-(lines * base).sum() + (lines_aff * _log_normalisers(base, weights)).sum()
                        + self.customer_l2 * emb.pow(2).sum())
                loss.backward()
                return loss

            opt.step(closure)
            with torch.no_grad():
                net.customer.weight[r] = emb.detach()

    def _fit_preference_head(self, net, t: _TrainingSet, rng: np.random.Generator) -> list[dict]:
        """Seed 000's regression on the fitted customer / product vectors (kept fixed): 9:1
        split of the preference triples, early stopping on the 10 %."""
        pc, pp, pa, py = t.pref
        perm = rng.permutation(len(py))
        n_val = int(round(len(py) * self.val_fraction)) if len(py) >= 10 else 0
        val_pairs, train_pairs = perm[:n_val], perm[n_val:]
        mu = float(py[train_pairs].mean()) if len(train_pairs) else 0.0
        with torch.no_grad():
            net.reg_mu.fill_(mu)
        self.baseline_rmse_ = float(np.sqrt(np.mean((py[val_pairs] - mu) ** 2))) if n_val else None
        self.validation_rmse_ = None
        logger = EpochLogger(f"{self.name}/preference", self.verbose)
        if not len(train_pairs):
            return logger.history
        opt = torch.optim.Adam(net.preference_parameters(), lr=self.preference_lr)
        stopper = EarlyStopping(patience=2)
        batch = int(max(256, min(self.preference_batch, np.ceil(len(train_pairs) / self.min_steps_per_epoch))))
        n_steps = max(1, int(np.ceil(len(train_pairs) / batch)))
        for epoch in range(1, self.preference_epochs + 1):
            order = train_pairs[rng.permutation(len(train_pairs))]
            tot_se = 0.0
            for s in range(n_steps):
                prow = order[s * batch:(s + 1) * batch]
                se = (self._predict_pairs(net, pc[prow], pp[prow], pa[prow]) - torch.from_numpy(py[prow])) ** 2
                opt.zero_grad(set_to_none=True)
                se.mean().backward()
                opt.step()
                tot_se += float(se.detach().sum())
            val_rmse = self._val_rmse(net, t, val_pairs) if n_val else float("nan")
            logger(epoch=epoch, train_rmse=float(np.sqrt(tot_se / len(train_pairs))), val_rmse=val_rmse)
            if stopper.update(-val_rmse if n_val else float(epoch), net, epoch):
                self.validation_rmse_ = val_rmse if n_val else None
            elif stopper.should_stop:
                break
        stopper.restore_best(net)
        return logger.history

    @torch.no_grad()
    def _val_rmse(self, net, t: _TrainingSet, val_pairs, bs: int = 65536) -> float:
        pc, pp, pa, py = t.pref
        se = 0.0
        for s in range(0, len(val_pairs), bs):
            prow = val_pairs[s:s + bs]
            pred = self._predict_pairs(net, pc[prow], pp[prow], pa[prow])
            se += float(((pred - torch.from_numpy(py[prow])) ** 2).sum())
        return float(np.sqrt(se / len(val_pairs)))

    def _customer_vectors(self, net, rows: np.ndarray) -> torch.Tensor:
        r = torch.from_numpy(np.asarray(rows, dtype=np.int64))
        return net.customer(r) + net.prior(self.customer_features_[r])

    def _predict_pairs(self, net, c, p, a):
        """Preference head on (customer, product, affiliate) triples; the vectors are inputs."""
        pidx = torch.from_numpy(np.asarray(p, dtype=np.int64))
        with torch.no_grad():
            u = self._customer_vectors(net, c)
            v = net.products(self.major_idx_, self.middle_idx_, pidx)
        return net.preference(u, v, pidx, torch.from_numpy(np.asarray(a, dtype=np.int64)))

    # ------------------------------------------------------------------ storage
    def _weights(self) -> dict:
        return {"net": self.net_.state_dict(), "net_sizes": self.net_sizes_,
                "customer_features": self.customer_features_, "major_idx": self.major_idx_,
                "middle_idx": self.middle_idx_, "mixture": self.mixture_, "product_vectors": self.product_vectors_,
                "affiliate_weights": self.affiliate_weights_}

    def _set_weights(self, weights: dict) -> None:
        self.net_sizes_ = dict(weights["net_sizes"])
        with torch_session(self.random_state, self.num_threads):  # the throw-away initialisation draws numbers
            net = self._new_net()
        net.load_state_dict(weights["net"])
        self.net_ = net.eval()
        self.customer_features_, self.major_idx_ = weights["customer_features"], weights["major_idx"]
        self.middle_idx_, self.mixture_ = weights["middle_idx"], weights["mixture"]
        self.product_vectors_, self.affiliate_weights_ = weights["product_vectors"], weights["affiliate_weights"]

    # ------------------------------------------------------------------ inference
    def predict_preference(self, customer_idx, product_idx, affiliate_idx) -> np.ndarray:
        """Predicted 0–5 preference score for (customer, product, affiliate) triples (clipped)."""
        with torch_session(self.random_state, self.num_threads), torch.no_grad():
            out = self._predict_pairs(self.net_, np.asarray(customer_idx, dtype=np.int64),
                                      np.asarray(product_idx, dtype=np.int64),
                                      np.asarray(affiliate_idx, dtype=np.int64))
        return out.clamp(0, 5).numpy().astype(np.float32)

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        """float32 [len(customer_idx), n_products]: log P(next line is product j) =
        log Σ_a π(customer, a) · p(j | customer, a)."""
        rows = np.asarray(customer_idx, dtype=np.int64)
        with torch_session(self.random_state, self.num_threads), torch.no_grad():
            base = self._customer_vectors(self.net_, rows) @ self.product_vectors_.T + self.net_.item_bias
            neg_log_z = -_log_normalisers(base, self.affiliate_weights_)
            top = neg_log_z.max(1, keepdim=True).values  # keeps exp() below 1
            mixed = (self.mixture_[torch.from_numpy(rows)] * torch.exp(neg_log_z - top)) @ self.affiliate_weights_
            return (base + top + torch.log(mixed + 1e-30)).numpy().astype(np.float32, copy=False)
