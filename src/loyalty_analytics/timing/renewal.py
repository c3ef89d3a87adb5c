"""The pooled model's likelihood and predictions per pair, in closed form (docs/timing.md, "Model").

A pair's intervals between purchase days are Weibull with a pair-specific rate λ (a proportional
hazards renewal process: hazard λ·c·x^(c−1), survival exp(−λ·x^c)); λ ~ Gamma(α, β) across
pairs (gamma frailty) with β = α·exp(c·θ), so θ is the pair's prior log time scale in days
(pooled in :mod:`.pooling`: global + category + item + customer effects). c = 1 is a Poisson
process (no memory), c > 1 more regular than Poisson. After each purchase day the pair may lapse
for good with probability p ~ Beta(a, b) across pairs (as BG/NBD's dropout; ``lapse`` off: never),
and the customer may have left (P(alive) from a customer-level BG/NBD; 1 when not used).

With n completed intervals x₁..xₙ, exposure E₀ = Σ xᵢ^c, the silence t (days since the pair's last
purchase at the cut) and u (the part of it while the customer still bought other items: a customer
who left did so right after their last purchase, as in BG/NBD), everything is closed form:

* intervals: c^n Π x^(c−1) · Γ(α+n)/Γ(α) · β^α / (β+E₀)^(α+n)
* the silence of an active pair: S(t) = ((β+E₀)/(β+E₀+t^c))^(α+n)
* P(pair lapsed after its n+1 purchase days) q = a/(a+b+n); P(not lapsed before) = B(a, b+n)/B(a, b)
* the silence: L = P(alive)·(1−q)·S(t) + (1−P(alive))·(1−q)·S(u) + q; P(alive and active | all)
  = P(alive)·(1−q)·S(t) / L
* P(buy in (t, t+h] | alive, active) = 1 − ((β+E₀+t^c)/(β+E₀+(t+h)^c))^(α+n)
* median of the next interval: ((β+E₀)·(2^(1/(α+n)) − 1))^(1/c).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import optimize
from scipy.special import betaln, gammaln

from loyalty_analytics.timing.histories import PairHistories

SHAPE_NAMES = ("weibull_shape", "frailty_shape", "lapse_a", "lapse_b")
INITIAL_SHAPE = {"weibull_shape": 1.0, "frailty_shape": 1.0, "lapse_a": 0.5, "lapse_b": 2.0}
NO_LAPSE = {"lapse_a": 0.0, "lapse_b": 1.0}  # q ≡ 0: a pair never stops by itself
# log bounds of (c, α, a, b): c in [0.2, 5] keeps x^c finite; a, b away from 0 and infinity
LOG_BOUNDS = [(np.log(0.2), np.log(5.0)), (-7.0, 7.0), (-9.0, 6.0), (-9.0, 9.0)]


@dataclass
class PairStats:
    """What the likelihood needs per pair: interval count ``n``, Σ log interval ``sum_log``,
    silence ``t`` (days since the pair's last purchase), ``u`` (the part of it while the customer
    still bought other items: t minus the customer's own silence), the customer's P(alive)
    ``p_alive`` (1 when not used), and the intervals themselves (``gaps``, pair row ``gap_pair``)
    for the exposure Σ x^c."""

    n: np.ndarray
    sum_log: np.ndarray
    t: np.ndarray
    u: np.ndarray
    p_alive: np.ndarray
    gaps: np.ndarray
    gap_pair: np.ndarray

    @classmethod
    def of(cls, hist: PairHistories, p_alive: np.ndarray | None = None) -> PairStats:
        p = hist.pairs
        t = p["days_since_last"].to_numpy(dtype=float)
        u = np.maximum(t - p["days_since_customer_last"].to_numpy(dtype=float), 0.0)
        alive = np.ones(len(t)) if p_alive is None else np.asarray(p_alive, dtype=float)
        return cls(
            p["n_intervals"].to_numpy(dtype=float),
            p["sum_log_intervals"].to_numpy(dtype=float),
            t,
            u,
            alive,
            hist.gaps,
            hist.gap_pair,
        )

    @cached_property
    def distinct_n(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct interval counts and each pair's position among them."""
        return np.unique(self.n, return_inverse=True)

    def exposure(self, c: float) -> np.ndarray:
        """E₀ = Σ xᵢ^c per pair (0 for a pair bought once)."""
        return np.bincount(self.gap_pair, self.gaps**c, minlength=len(self.n))

    def powers(self, c: float) -> Powers:
        """E₀, t^c and u^c: what the likelihood needs at Weibull shape c (computed once per c)."""
        return Powers(c, self.exposure(c), self.t**c, self.u**c)

    def take(self, rows: np.ndarray) -> PairStats:
        positions = np.asarray(rows)
        new_index = np.full(len(self.n), -1, dtype=np.int64)
        new_index[positions] = np.arange(len(positions))
        kept = new_index[self.gap_pair] >= 0
        per_pair = (self.n, self.sum_log, self.t, self.u, self.p_alive)
        return PairStats(*(a[positions] for a in per_pair), self.gaps[kept], new_index[self.gap_pair[kept]])


@dataclass
class Powers:
    """Per pair at Weibull shape ``c``: exposure E₀ = Σ xᵢ^c, t^c and u^c."""

    c: float
    e0: np.ndarray
    t_c: np.ndarray
    u_c: np.ndarray


@dataclass
class PairTerms:
    """Per-pair quantities at θ (module doc): β, β+E₀, the log-likelihood of the silence, and the
    posterior weights of "customer alive and pair active" (``active``, exposure t) and "customer
    gone, pair active until then" (``gone``, exposure u)."""

    beta: np.ndarray
    base: np.ndarray  # β + E₀
    log_silence: np.ndarray
    active: np.ndarray
    gone: np.ndarray


def _log(x) -> np.ndarray:
    with np.errstate(divide="ignore"):
        return np.log(x)


TINY = 1e-250  # below this the silence likelihood is recomputed on the log scale


def pair_terms(theta, stats: PairStats, shape: dict, powers: Powers, lapse: bool = True) -> PairTerms:
    """β, β+E₀, log of the silence likelihood L = P(alive)·(1−q)·S(t) + (1 − P(alive))·(1−q)·S(u) + q
    and the posterior weights of its first two terms (module doc)."""
    c, alpha = shape["weibull_shape"], shape["frailty_shape"]
    beta = alpha * np.exp(c * np.asarray(theta, dtype=float))
    base = beta + powers.e0
    post = alpha + stats.n
    log_base = np.log(base)
    log_s_t = post * (log_base - np.log(base + powers.t_c))
    log_s_u = post * (log_base - np.log(base + powers.u_c))
    lapsed = shape["lapse_a"] / (shape["lapse_a"] + shape["lapse_b"] + stats.n) if lapse else np.zeros_like(beta)
    alive_active = stats.p_alive * (1.0 - lapsed) * np.exp(log_s_t)
    gone_active = (1.0 - stats.p_alive) * (1.0 - lapsed) * np.exp(log_s_u)
    total = alive_active + gone_active + lapsed
    with np.errstate(divide="ignore", invalid="ignore"):
        log_silence, active, gone = np.log(total), alive_active / total, gone_active / total
    small = total < TINY
    if small.any():  # S(t) underflowed: the same sums with a max shift on the log scale
        cases = np.stack(
            [
                _log(stats.p_alive[small] * (1.0 - lapsed[small])) + log_s_t[small],
                _log((1.0 - stats.p_alive[small]) * (1.0 - lapsed[small])) + log_s_u[small],
                _log(lapsed[small]),
            ]
        )
        top = cases.max(axis=0)
        weights = np.exp(cases - top)
        log_silence[small] = top + np.log(weights.sum(axis=0))
        active[small], gone[small] = weights[:2] / weights.sum(axis=0)
    return PairTerms(beta, base, log_silence, active, gone)


def log_likelihood(theta, stats: PairStats, shape: dict, powers: Powers, lapse: bool = True) -> np.ndarray:
    """Each pair's marginal log-likelihood: its intervals, its silence and its lapse record."""
    c, alpha = shape["weibull_shape"], shape["frailty_shape"]
    terms = pair_terms(theta, stats, shape, powers, lapse)
    # the special functions depend on n only: evaluated once per distinct count
    counts, which = stats.distinct_n
    per_count = gammaln(alpha + counts) - gammaln(alpha)
    if lapse:
        a, b = shape["lapse_a"], shape["lapse_b"]
        per_count = per_count + betaln(a, b + counts) - betaln(a, b)
    intervals = (
        stats.n * np.log(c)
        + (c - 1.0) * stats.sum_log
        + per_count[which]
        + alpha * np.log(terms.beta)
        - (alpha + stats.n) * np.log(terms.base)
    )
    return intervals + terms.log_silence


def grad_hess(theta, stats: PairStats, shape: dict, powers: Powers, lapse: bool = True):
    """d/dθ of each pair's log-likelihood and a positive curvature (the information with the
    posterior weights held fixed): with s = β/(β+E) for E = E₀, E₀+t^c, E₀+u^c and weights
    1−w_t−w_u, w_t, w_u: g = c·[α − (α+n)·Σ weight·s], h = c²(α+n)·Σ weight·s(1−s)."""
    c, alpha = shape["weibull_shape"], shape["frailty_shape"]
    terms = pair_terms(theta, stats, shape, powers, lapse)
    w_t, w_u = terms.active, terms.gone
    s0 = terms.beta / terms.base
    s_t = terms.beta / (terms.base + powers.t_c)
    s_u = terms.beta / (terms.base + powers.u_c)
    w_0 = 1.0 - w_t - w_u
    post = alpha + stats.n
    g = c * (alpha - post * (w_0 * s0 + w_t * s_t + w_u * s_u))
    h = c * c * post * (w_0 * s0 * (1.0 - s0) + w_t * s_t * (1.0 - s_t) + w_u * s_u * (1.0 - s_u))
    return g, h


def fit_shape(theta, stats: PairStats, start: dict, lapse: bool = True) -> dict:
    """Maximum marginal likelihood of (c, α[, a, b]) with the pairs' θ held fixed."""
    names = SHAPE_NAMES if lapse else SHAPE_NAMES[:2]

    def unpack(z) -> dict:
        return {**start, **dict(zip(names, np.exp(z).tolist())), **({} if lapse else NO_LAPSE)}

    def nll(z) -> float:
        shape = unpack(z)
        return -float(log_likelihood(theta, stats, shape, stats.powers(shape["weibull_shape"]), lapse).mean())

    z0 = np.log([max(start[name], 1e-3) for name in names])
    res = optimize.minimize(nll, z0, method="L-BFGS-B", bounds=LOG_BOUNDS[: len(names)])
    return unpack(res.x)


def probability_within(terms: PairTerms, stats: PairStats, powers: Powers, shape: dict, days: float) -> np.ndarray:
    """P(the pair buys in (t, t + days] | customer alive, pair active, no purchase in the t days
    since the last); times ``terms.active`` it is the published probability."""
    post = shape["frailty_shape"] + stats.n
    later = terms.base + (stats.t + days) ** powers.c
    return -np.expm1(post * (np.log(terms.base + powers.t_c) - np.log(later)))


def typical_interval(terms: PairTerms, stats: PairStats, powers: Powers, shape: dict) -> np.ndarray:
    """Median of the pair's next interval from its completed intervals (the rate's posterior
    Gamma(α+n, β+E₀)): S(x) = (B/(B + x^c))^(α+n) = 1/2 gives x = (B·(2^(1/(α+n)) − 1))^(1/c)."""
    post = shape["frailty_shape"] + stats.n
    return (terms.base * np.expm1(np.log(2.0) / post)) ** (1.0 / powers.c)


def days_to_next_purchase(terms: PairTerms, stats: PairStats, powers: Powers, shape: dict, window: float):
    """Days after the cut to the median next purchase of an active pair, given it falls in the
    next ``window`` days: r with S(t+r)/S(t) = 1 − ½·P(buy in (t, t+window]), in closed form
    (t+r)^c = t^c + (β+E₀+t^c)·((1 − ½·P)^(−1/(α+n)) − 1)."""
    post = shape["frailty_shape"] + stats.n
    in_window = probability_within(terms, stats, powers, shape, window)
    later_c = powers.t_c + (terms.base + powers.t_c) * np.expm1(-np.log1p(-0.5 * in_window) / post)
    return np.clip(later_c ** (1.0 / powers.c) - stats.t, 0.0, window)
