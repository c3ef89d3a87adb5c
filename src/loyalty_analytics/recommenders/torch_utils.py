"""Small helpers shared by the neural recommenders (``preference_nn``, ``sequential``).

* :func:`torch_session` — the determinism guard: one torch session at a time (``SESSION_LOCK``),
  with a fixed seed, number of CPU threads and deterministic algorithms, and the process-wide
  torch settings restored afterwards. dbt runs its Python models in threads of one process, and
  torch's global RNG and thread count are process-wide: two fits at once would make each other's
  results depend on timing. The lock guards settings, not results — nothing is cached here.
* customer / product feature encodings that both models use (whatever customer attributes and
  category levels the data has, :class:`FeatureEmbedding`), the per-epoch logger and early stopping.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import random
import threading
import time

import numpy as np
import torch

log = logging.getLogger("loyalty_analytics.recommenders")

# Re-entrant: a model's score() opens its own session inside the caller's (evaluation, top-K).
# ALS holds it too while it limits the process-wide BLAS threads.
SESSION_LOCK = threading.RLock()


@contextlib.contextmanager
def torch_session(seed: int | None = None, num_threads: int | None = None):
    """One deterministic torch block at a time (CPU): seeded when ``seed`` is given, with
    ``num_threads`` CPU threads when given (else the current count). Restores previous settings.

    Per-model ``torch.Generator`` objects would not make the lock unnecessary: dropout and the
    default initialisation of ``nn.Linear`` / ``nn.GRU`` draw from the global RNG, and the thread
    count stays process-wide."""
    with SESSION_LOCK:
        prev_threads = torch.get_num_threads()
        prev_det = torch.are_deterministic_algorithms_enabled()
        prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        if num_threads is not None:
            torch.set_num_threads(max(1, int(num_threads)))
        torch.use_deterministic_algorithms(True)
        if seed is not None:
            torch.manual_seed(seed)
            random.seed(seed)
        try:
            yield
        finally:
            torch.set_num_threads(prev_threads)
            torch.use_deterministic_algorithms(prev_det, warn_only=prev_warn)


class EpochLogger:
    """Per-epoch progress lines (logging + print so they show up in dbt's log). Every epoch
    lands in ``history``; with ``print_every`` > 1 only every n-th epoch (and ``last=True``)
    is printed, so long runs of short epochs do not flood the log."""

    def __init__(self, model_name: str, verbose: bool = True, print_every: int = 1):
        self.model_name = model_name
        self.verbose = verbose
        self.print_every = max(1, int(print_every))
        self.t0 = time.perf_counter()
        self.history: list[dict] = []

    def __call__(self, last: bool = False, **fields) -> None:
        fields = {"epoch": fields.pop("epoch"), **fields, "seconds": round(time.perf_counter() - self.t0, 2)}
        self.history.append(fields)
        msg = f"[{self.model_name}] " + " ".join(
            f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in fields.items()
        )
        if not (last or fields["epoch"] == 1 or fields["epoch"] % self.print_every == 0):
            return
        log.info(msg)
        if self.verbose:
            print(msg, flush=True)


def customer_feature_index(data, max_cross_levels: int = 0) -> tuple[np.ndarray, list[int]]:
    """int64 [n_customers, n_features] codes (0 = unknown) and each feature's number of codes:
    one feature per customer attribute (whatever ``data.customer_features`` holds — none is
    fine), plus the cross of every pair of attributes whose codes multiply to at most
    ``max_cross_levels`` (0: no crosses) — on L.Point data gender × age band, the crossed
    feature seed 000 had."""
    cf = data.customer_features
    codes = [np.clip(cf[column].to_numpy().astype(np.int64), 0, None) for column in cf.columns]
    sizes = [
        int(max(c.max(initial=0), len(data.attribute_levels.get(column, ())))) + 1
        for c, column in zip(codes, cf.columns, strict=True)
    ]
    for a, b in itertools.combinations(range(len(codes)), 2):
        if sizes[a] * sizes[b] <= max_cross_levels:
            codes.append(codes[a] * sizes[b] + codes[b])
            sizes.append(sizes[a] * sizes[b])
    return _stacked(codes, data.n_customers), sizes


def product_feature_index(data) -> tuple[np.ndarray, list[int]]:
    """int64 [n_products, n_levels] category codes (0 = unknown) and each level's number of codes."""
    pf = data.product_features
    codes = [np.clip(pf[column].to_numpy().astype(np.int64), 0, None) for column in pf.columns]
    sizes = [
        int(max(c.max(initial=0), len(data.category_levels.get(column, ())))) + 1
        for c, column in zip(codes, pf.columns, strict=True)
    ]
    return _stacked(codes, data.n_products), sizes


def _stacked(columns: list[np.ndarray], n_rows: int) -> np.ndarray:
    return np.stack(columns, axis=1) if columns else np.zeros((n_rows, 0), dtype=np.int64)


class FeatureEmbedding(torch.nn.Module):
    """Sum of one embedding per categorical feature (codes [B, n_features] → [B, dim]); no
    feature at all gives zeros. One table with per-feature offsets, initialised N(0, 0.05)."""

    def __init__(self, sizes: list[int], dim: int):
        super().__init__()
        self.table = torch.nn.Embedding(max(sum(sizes), 1), dim)
        torch.nn.init.normal_(self.table.weight, std=0.05)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]) if sizes else np.zeros(0)
        self.register_buffer("offsets", torch.as_tensor(offsets, dtype=torch.long))

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        return self.table(codes + self.offsets).sum(1)


class EarlyStopping:
    """Keeps the weights of the best epoch by a validation score (higher is better) and
    says when `patience` epochs in a row have not improved it."""

    def __init__(self, patience: int, min_delta: float = 1e-4):
        self.patience = patience
        self.min_delta = min_delta
        self.best = -np.inf
        self.bad_epochs = 0
        self.best_epoch: int | None = None
        self._best_state: dict | None = None

    def update(self, score: float, net: torch.nn.Module, epoch: int) -> bool:
        """Record an epoch; True when it is the best so far (its weights are kept)."""
        if score > self.best + self.min_delta:
            self.best, self.bad_epochs, self.best_epoch = score, 0, epoch
            self._best_state = {k: t.detach().clone() for k, t in net.state_dict().items()}
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        return self.bad_epochs >= self.patience

    def restore_best(self, net: torch.nn.Module) -> None:
        if self._best_state is not None:
            net.load_state_dict(self._best_state)


def restore_net(new_net, state_dict: dict, seed: int, num_threads: int):
    """A stored network back in eval mode: ``new_net()`` builds the architecture (its random
    initialisation, thrown away, draws numbers: inside a seeded session so nothing else shifts),
    then the stored weights replace it."""
    with torch_session(seed, num_threads):
        net = new_net()
    net.load_state_dict(state_dict)
    return net.eval()
