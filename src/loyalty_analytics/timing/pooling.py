"""Pooling across customers and items: each pair's prior log time scale is

    θ_ij = global + category[cat(j)] + item[j] + customer[i]

with Gaussian (random-effect) shrinkage of every effect toward 0: an item with few pairs stays near
its category, a category with few pairs near the global level, a customer with few pairs near the
population. The effects maximise the penalised marginal likelihood of the pairs (block-coordinate
Newton steps with gradients summed per effect by ``np.bincount``: no loop over pairs, customers or
items); the effect variances τ² are re-estimated between rounds (Laplace-EM: τ² = mean(effect² +
posterior variance)), and ``prior_strength`` scales the precisions 1/τ² (1 = empirical Bayes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

LEVELS = ("category", "item", "customer")
MAX_STEP = 1.0  # largest Newton step on the log scale (keeps early iterations stable)
MIN_VARIANCE = 1e-4
TOLERANCE = 1e-4  # largest change of an effect (log days) that counts as converged

GradHess = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # θ per pair -> (gradient, curvature)


@dataclass
class PairIndex:
    """Integer codes of each pair's customer, item and the item's category."""

    customer: np.ndarray
    item: np.ndarray
    category: np.ndarray
    n_customers: int
    n_items: int
    n_categories: int

    def codes(self, level: str) -> np.ndarray:
        return getattr(self, level)


@dataclass
class Effects:
    """Fitted effects (log days) and the prior precision of each level."""

    global_: float
    category: np.ndarray
    item: np.ndarray
    customer: np.ndarray
    precision: dict = field(default_factory=dict)

    def theta(self, index: PairIndex) -> np.ndarray:
        return self.global_ + self.category[index.category] + self.item[index.item] + self.customer[index.customer]


def newton_block(g, h, codes, size, values, precision) -> tuple[np.ndarray, np.ndarray]:
    """One diagonal Newton step for the effects of one level (prior N(0, 1/precision)); returns
    the new values and each effect's posterior precision."""
    grad = np.bincount(codes, weights=g, minlength=size) - precision * values
    curv = np.bincount(codes, weights=h, minlength=size) + precision
    step = np.clip(grad / np.maximum(curv, 1e-12), -MAX_STEP, MAX_STEP)
    return values + step, curv


def fit_effects(
    grad_hess: GradHess,
    index: PairIndex,
    precision: dict,
    start: Effects,
    levels=LEVELS,
    n_iter: int = 30,
) -> tuple[Effects, dict]:
    """Penalised marginal-likelihood effects of ``levels`` for fixed shape and precisions;
    returns the effects and each level's posterior precisions (for the variance update)."""
    eff = Effects(start.global_, start.category.copy(), start.item.copy(), start.customer.copy(), dict(precision))
    post = {}
    for _ in range(n_iter):
        g, h = grad_hess(eff.theta(index))
        step = float(np.clip(g.sum() / max(h.sum(), 1e-12), -MAX_STEP, MAX_STEP))
        eff.global_ += step
        largest = abs(step)
        for level in levels:
            g, h = grad_hess(eff.theta(index))
            values = getattr(eff, level)
            new, post[level] = newton_block(g, h, index.codes(level), len(values), values, precision[level])
            largest = max(largest, float(np.abs(new - values).max(initial=0.0)))
            setattr(eff, level, new)
        if largest < TOLERANCE:
            break
    return eff, post


def updated_precisions(effects: Effects, post: dict, prior_strength: float, levels=LEVELS) -> dict:
    """Laplace-EM variance update per level, times ``prior_strength``; a level not fitted keeps
    precision 1 (its effects stay 0)."""
    out = {}
    for level in LEVELS:
        values = getattr(effects, level)
        if level not in levels or len(values) == 0:
            out[level] = 1.0
            continue
        variance = float(np.mean(values**2 + 1.0 / post[level]))
        out[level] = prior_strength / max(variance, MIN_VARIANCE)
    return out


def customer_effects(grad_hess: GradHess, base_theta, customer, n_customers, precision, n_iter: int = 30):
    """Customer effects for new histories with the stored global, category and item effects held
    fixed (``base_theta`` per pair)."""
    values = np.zeros(n_customers)
    for _ in range(n_iter):
        g, h = grad_hess(base_theta + values[customer])
        new, _ = newton_block(g, h, customer, n_customers, values, precision)
        if np.abs(new - values).max(initial=0.0) < TOLERANCE:
            return new
        values = new
    return values
