"""PreferenceNN — seed 000's embedding network, the estimator: data preparation, training,
scoring and storage. The network — customer vector ``u_i = e_i + Σ_f attr_f(i)``, product vector
``v_j = e_j + Σ_l category_l(j)`` and bias ``b_j``, the two heads — is
``preference_net.PreferenceNet``; what it trains on is computed by ``preference_data``.

``e_i`` carries an L2 penalty (``customer_l2``, a Gaussian prior around the attribute mean), so a
customer with little history stays close to what people like them buy; the product and category
tables carry ``product_l2``; attribute pairs with at most ``max_cross_levels`` codes are crossed.
Two heads on the same vectors:

1. **purchase head** (what ``score`` ranks by): one softmax *per affiliate* over the candidate
   products that affiliate sold in the history, ``p(j | i, a) ∝ exp(u_i·v_j + b_j + θ[a, top(j)])``,
   fitted by penalised maximum likelihood on the customer's history lines of candidate products
   (a multinomial-logit factor model), its normalisers only over the candidate columns.
   Candidates = the products bought in the history, at most ``max_candidates`` of them (the most
   bought; the others rank below them); customer batches shrink with the number of candidates
   (``batching``). After the optimiser epochs every customer vector is re-fitted with the
   products fixed (L-BFGS, ``refit_iterations``): each customer's penalised likelihood is then
   at its optimum, not where the last epoch left it.
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

import numpy as np
import torch

from .base import RecommenderBase
from .batching import batch_rows, row_batches
from .preference_data import TrainingSet, mixture_weights, training_set
from .preference_net import PreferenceNet, log_normalisers, sparse_dot
from .torch_utils import (
    EarlyStopping,
    EpochLogger,
    customer_feature_index,
    log,
    product_feature_index,
    restore_net,
    torch_session,
)

__all__ = ["PreferenceNN"]


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
    the mixture weights; ``max_candidates`` the softmax's products (the most bought; None: every
    product bought in the history); ``max_cross_levels`` crosses of attribute pairs with at most this many codes
    (0: none); ``preference_epochs`` / ``preference_batch`` / ``preference_lr`` the
    preference head's training (early stopping, patience 2); ``val_fraction`` share of
    preference triples held out; ``num_threads`` torch CPU threads; ``random_state`` seeds the
    initialisation, batch order and the 9:1 split.

    Learned: ``net_`` (weights), ``customer_features_`` / ``product_features_`` (attribute and
    category codes), ``mixture_`` (affiliate mixture weights), ``candidates_`` (the product
    columns of the softmax), ``product_vectors_`` and ``affiliate_weights_`` (the product side
    ``score`` uses), ``history_`` and
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
        max_candidates: int | None = 8192,
        max_cross_levels: int = 32,
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
        self.max_candidates = max_candidates
        self.max_cross_levels = max_cross_levels
        self.preference_epochs = preference_epochs
        self.preference_batch = preference_batch
        self.preference_lr = preference_lr
        self.val_fraction = val_fraction
        self.num_threads = num_threads
        self.verbose = verbose
        self.random_state = random_state

    # ------------------------------------------------------------------ data prep
    def _prepare(self, data) -> TrainingSet:
        """Feature codes, candidate products and mixture weights (kept: scoring needs them) and
        the training set over the candidate columns."""
        C, P, A = data.n_customers, data.n_products, data.n_affiliates
        categories, category_sizes = product_feature_index(data)
        attributes, attribute_sizes = customer_feature_index(data, self.max_cross_levels)
        self.product_features_ = torch.from_numpy(categories)
        self.customer_features_ = torch.from_numpy(attributes)
        top = data.top_categories()
        n_top = int(max(top.max(initial=0) + 1, category_sizes[0] if category_sizes else 1))
        self.top_category_ = torch.from_numpy(top)
        self.net_sizes_ = {
            "n_customers": C,
            "n_products": P,
            "attribute_sizes": attribute_sizes,
            "category_sizes": category_sizes,
            "n_top": n_top,
            "n_affiliates": A,
        }
        self.candidates_ = torch.from_numpy(data.candidate_products(self.max_candidates))
        self.mixture_ = mixture_weights(data.lines, C, A, self.mix_prior_receipts)
        return training_set(data, self.candidates_.numpy(), top, n_top)

    def _affiliate_weights(self, net, sold: torch.Tensor) -> torch.Tensor:
        """W[a, s] = exp(θ[a, top(candidate s)]) · [a sold it]: float [A, S]."""
        return net.affiliate_weights(self.top_category_[self.candidates_], sold)

    def _purchase_nll(self, net, t: TrainingSet, rows: np.ndarray, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Summed negative log-likelihood of the candidate history lines of ``rows`` under the
        per-affiliate softmax: -Σ lines·(u·v + b + θ) + Σ_a lines_a · log Z_a (``v``: the
        candidates' vectors, ``net.products(…, candidates_)``)."""
        base = u @ v.T + net.item_bias[self.candidates_]  # [B, S]
        log_z = log_normalisers(base, self._affiliate_weights(net, t.sold))
        aff_top = torch.from_numpy(t.lines_aff_top[rows].toarray()).view(len(rows), t.n_affiliates, -1)
        r = torch.from_numpy(rows)
        return -sparse_dot(t.lines[rows], base) - (aff_top * net.affiliate_top).sum() + (t.lines_aff[r] * log_z).sum()

    def _new_net(self) -> PreferenceNet:
        s = self.net_sizes_
        return PreferenceNet(
            s["n_customers"],
            s["n_products"],
            list(s["attribute_sizes"]),
            list(s["category_sizes"]),
            s["n_top"],
            s["n_affiliates"],
            self.dim,
        )

    def _rows_per_step(self, n_columns: int) -> int:
        """Customer rows whose [rows, candidates] temporaries fit the memory budget (the
        softmax keeps about four of them alive for the backward pass)."""
        return batch_rows(n_columns, share=4, max_rows=None)

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
                print(
                    f"[{self.name}] customer vectors re-fitted (L-BFGS, {self.refit_iterations} iterations) in "
                    f"{time.perf_counter() - refit_started:.1f} s",
                    flush=True,
                )
            self.preference_history_ = self._fit_preference_head(net, t, rng)
            net.eval()
            self.net_ = net
            with torch.no_grad():
                self.product_vectors_ = net.products(self.product_features_).detach().clone()
                self.affiliate_weights_ = self._affiliate_weights(net, t.sold).detach().clone()
        log.info(
            "[%s] fitted, validation_rmse=%s (mean-predictor %s)", self.name, self.validation_rmse_, self.baseline_rmse_
        )

    def _fit_purchase_head(self, net, t: TrainingSet, active: np.ndarray, rng: np.random.Generator) -> list[dict]:
        """Adam epochs over customer batches on the penalised purchase likelihood."""
        bc = int(max(16, min(self.batch_customers, np.ceil(len(active) / self.min_steps_per_epoch))))
        bc = max(1, min(bc, self._rows_per_step(len(self.candidates_))))
        n_steps = max(1, int(np.ceil(len(active) / bc)))
        n_epochs = max(self.epochs, int(np.ceil(self.min_total_steps / n_steps)))
        opt = torch.optim.Adam(net.purchase_parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=n_epochs * n_steps)
        logger = EpochLogger(self.name, self.verbose, print_every=max(1, n_epochs // 10))
        total_lines = float(max(t.n_lines.sum(), 1.0))
        for epoch in range(1, n_epochs + 1):
            order = active[rng.permutation(len(active))]
            tot_nll = 0.0
            for s in range(n_steps):
                rows = order[s * bc : (s + 1) * bc]
                r = torch.from_numpy(rows)
                u = self._customer_vectors(net, rows)
                nll = self._purchase_nll(net, t, rows, u, net.products(self.product_features_, self.candidates_))
                # MAP penalties: each customer's own; the products' share of this batch
                penalty = self.customer_l2 * net.customer(r).pow(2).sum()
                penalty = penalty + self.product_l2 * (len(rows) / len(active)) * sum(
                    table.pow(2).sum() for table in net.product_tables()
                )
                loss = (nll + penalty) / float(max(t.n_lines[rows].sum(), 1.0))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
                tot_nll += float(nll.detach())
            logger(epoch=epoch, last=epoch == n_epochs, train_nll_per_line=tot_nll / total_lines)
        return logger.history

    def _refit_customers(self, net, t: TrainingSet, active: np.ndarray) -> None:
        """Penalised maximum likelihood of every customer's embedding with the product side
        fixed, block by block (customers are independent given the products; blocks of at most
        ``refit_batch`` customers whose [block, candidates] temporaries fit the memory budget)."""
        if not self.refit_iterations or not len(active):
            return
        with torch.no_grad():
            v = net.products(self.product_features_, self.candidates_).detach()
            weights = self._affiliate_weights(net, t.sold).detach()
            bias = net.item_bias[self.candidates_].detach()
        block = min(self.refit_batch, self._rows_per_step(len(self.candidates_)))
        for s in range(0, len(active), block):
            rows = active[s : s + block]
            r = torch.from_numpy(rows)
            with torch.no_grad():
                prior = net.prior(self.customer_features_[r])
            lines = t.lines[rows].tocsr()
            lines_aff = t.lines_aff[r]
            emb = net.customer.weight.detach()[r].clone().requires_grad_(True)
            opt = torch.optim.LBFGS([emb], lr=1.0, max_iter=self.refit_iterations, line_search_fn="strong_wolfe")

            def closure(emb=emb, prior=prior, lines=lines, lines_aff=lines_aff, opt=opt):
                opt.zero_grad()
                base = (emb + prior) @ v.T + bias
                loss = (
                    -sparse_dot(lines, base)
                    + (lines_aff * log_normalisers(base, weights)).sum()
                    + self.customer_l2 * emb.pow(2).sum()
                )
                loss.backward()
                return loss

            opt.step(closure)
            with torch.no_grad():
                net.customer.weight[r] = emb.detach()

    def _fit_preference_head(self, net, t: TrainingSet, rng: np.random.Generator) -> list[dict]:
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
                prow = order[s * batch : (s + 1) * batch]
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
    def _val_rmse(self, net, t: TrainingSet, val_pairs, bs: int = 65536) -> float:
        pc, pp, pa, py = t.pref
        se = 0.0
        for s in range(0, len(val_pairs), bs):
            prow = val_pairs[s : s + bs]
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
            v = net.products(self.product_features_, pidx)
        return net.preference(u, v, pidx, torch.from_numpy(np.asarray(a, dtype=np.int64)))

    # ------------------------------------------------------------------ storage
    def _weights(self) -> dict:
        return {
            "net": self.net_.state_dict(),
            "net_sizes": self.net_sizes_,
            "customer_features": self.customer_features_,
            "product_features": self.product_features_,
            "top_category": self.top_category_,
            "candidates": self.candidates_,
            "mixture": self.mixture_,
            "product_vectors": self.product_vectors_,
            "affiliate_weights": self.affiliate_weights_,
        }

    def _set_weights(self, weights: dict) -> None:
        self.net_sizes_ = dict(weights["net_sizes"])
        self.net_ = restore_net(self._new_net, weights["net"], self.random_state, self.num_threads)
        self.customer_features_, self.product_features_ = weights["customer_features"], weights["product_features"]
        self.top_category_, self.candidates_ = weights["top_category"], weights["candidates"]
        self.mixture_ = weights["mixture"]
        self.product_vectors_, self.affiliate_weights_ = weights["product_vectors"], weights["affiliate_weights"]

    # ------------------------------------------------------------------ inference
    def predict_preference(self, customer_idx, product_idx, affiliate_idx) -> np.ndarray:
        """Predicted 0–5 preference score for (customer, product, affiliate) triples (clipped)."""
        with torch_session(self.random_state, self.num_threads), torch.no_grad():
            out = self._predict_pairs(
                self.net_,
                np.asarray(customer_idx, dtype=np.int64),
                np.asarray(product_idx, dtype=np.int64),
                np.asarray(affiliate_idx, dtype=np.int64),
            )
        return out.clamp(0, 5).numpy().astype(np.float32)

    def score(self, customer_idx: np.ndarray) -> np.ndarray:
        """float32 [len(customer_idx), n_products]: log P(next line is product j) =
        log Σ_a π(customer, a) · p(j | customer, a); products outside the candidates have
        probability 0 (log 1e-30 + their logit: below every candidate)."""
        rows = np.asarray(customer_idx, dtype=np.int64)
        out = np.empty((len(rows), self.product_vectors_.shape[0]), dtype=np.float32)
        cand = self.candidates_
        with torch_session(self.random_state, self.num_threads), torch.no_grad():
            # about four [rows, products] temporaries per block
            done = 0
            for block in row_batches(rows, out.shape[1], share=4):
                base = self._customer_vectors(self.net_, block) @ self.product_vectors_.T + self.net_.item_bias
                cand_base = base.index_select(1, cand)
                neg_log_z = -log_normalisers(cand_base, self.affiliate_weights_)
                top = neg_log_z.max(1, keepdim=True).values  # keeps exp() below 1
                mixed = (self.mixture_[torch.from_numpy(block)] * torch.exp(neg_log_z - top)) @ self.affiliate_weights_
                base += top + float(np.log(1e-30))  # probability 0 outside the candidates
                base.index_copy_(1, cand, cand_base + top + torch.log(mixed + 1e-30))
                out[done : done + len(block)] = base.numpy()
                done += len(block)
        return out
