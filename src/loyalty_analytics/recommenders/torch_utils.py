"""Small helpers shared by the neural recommenders (``preference_nn``, ``sequential``).

* :func:`torch_session` — the determinism guard: one torch session at a time (``SESSION_LOCK``),
  with a fixed seed, number of CPU threads and deterministic algorithms, and the process-wide
  torch settings restored afterwards. dbt runs its Python models in threads of one process, and
  torch's global RNG and thread count are process-wide: two fits at once would make each other's
  results depend on timing. The lock guards settings, not results — nothing is cached here.
* customer / product feature encodings that both models use (demographic and category
  indices), the per-epoch logger and early stopping.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import threading
import time

import numpy as np
import torch

log = logging.getLogger("loyalty_analytics.recommenders")

N_AGE_SLOTS = 8  # age band index: 0 unknown, 1..7 = 10s..70s (bands clipped)


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


def customer_feature_index(data) -> np.ndarray:
    """int64 [n_customers, 3]: gender slot (0 unknown, 1 female, 2 male), age slot
    (0 unknown, 1..7), region slot (region_idx, 0 unknown)."""
    cf = data.customer_features
    g = cf["gender"].to_numpy().astype(np.int64)
    gender = np.where(g < 0, 0, g + 1)
    age = cf["age_band"].to_numpy().astype(np.int64) // 10
    age = np.clip(age, 0, N_AGE_SLOTS - 1)
    region = np.clip(cf["region_idx"].to_numpy().astype(np.int64), 0, None)
    return np.stack([gender, age, region], axis=1)


def customer_feature_sizes(data) -> tuple[int, int, int]:
    cf = data.customer_features
    n_region = int(max(int(cf["region_idx"].max()) if len(cf) else 0, len(getattr(data, "region_codes", [])))) + 1
    return 3, N_AGE_SLOTS, n_region


def product_feature_index(data) -> tuple[np.ndarray, np.ndarray, int, int]:
    pf = data.product_features
    major = np.clip(pf["major_idx"].to_numpy().astype(np.int64), 0, None)
    middle = np.clip(pf["middle_idx"].to_numpy().astype(np.int64), 0, None)
    n_major = int(max(major.max(initial=0), len(getattr(data, "category_majors", [])))) + 1
    n_middle = int(max(middle.max(initial=0), len(getattr(data, "category_middles", [])))) + 1
    return major, middle, n_major, n_middle


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
