"""Fitting the lifetimes models on an RFM summary: BG/NBD, Pareto/NBD (transaction models) and
Gamma-Gamma (spend), plus their log-likelihoods in day units. Choices: docs/clv.md, "Model"."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy.special import gammaln

from loyalty_analytics.clv.fitters import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter, quiet
from loyalty_analytics.clv.summary import canonical_order, summary_arrays

TRANSACTION_MODELS = ("bgnbd", "pareto_nbd")


def fit_bgnbd(summary: pd.DataFrame, penalizer: float = 0.0) -> BetaGeoFitter:
    f, r, t = canonical_order(*summary_arrays(summary))
    with quiet():
        return BetaGeoFitter(penalizer_coef=penalizer).fit(f, r, t)


def fit_pareto_nbd(summary: pd.DataFrame, penalizer: float = 0.0, maxiter: int = 2000) -> ParetoNBDFitter:
    """Pareto/NBD; customers are collapsed to distinct (frequency, recency, T) patterns with
    weights (lifetimes' ``weights`` argument; same likelihood, fewer hyp2f1 evaluations)."""
    f, r, t = summary_arrays(summary)
    pat = pd.DataFrame({"f": f, "r": r, "t": t}).value_counts().sort_index().reset_index(name="w")  # order-free
    with quiet():
        # a fixed start: lifetimes' default draws it from the unseeded global NumPy RNG
        return ParetoNBDFitter(penalizer_coef=penalizer).fit(
            pat["f"].to_numpy(),
            pat["r"].to_numpy(),
            pat["t"].to_numpy(),
            weights=pat["w"].to_numpy(),
            initial_params=np.ones(4),
            tol=1e-6,
            maxiter=maxiter,
        )


def fit_gamma_gamma(summary: pd.DataFrame, penalizer: float = 0.0) -> GammaGammaFitter:
    """Gamma-Gamma on repeat buyers (frequency > 0 and monetary_value > 0); refitted with
    ``q_constraint`` when the free fit gives q <= 1 (population mean undefined)."""
    f, _, _, m = summary_arrays(summary, need_monetary=True)
    f, m = canonical_order(f, m)
    keep = (f > 0) & (m > 0)
    if keep.sum() < 3:
        raise ValueError(f"Gamma-Gamma needs repeat buyers with spend > 0; found {int(keep.sum())}")
    with quiet():
        gg = GammaGammaFitter(penalizer_coef=penalizer).fit(f[keep], m[keep])
        if gg.params_["q"] <= 1:
            gg = GammaGammaFitter(penalizer_coef=penalizer).fit(f[keep], m[keep], q_constraint=True)
    return gg


def log_likelihood(model, summary: pd.DataFrame) -> float:
    """Total log-likelihood of the summary under a fitted BG/NBD or Pareto/NBD, in day units
    (lifetimes' own figures are not comparable between the two)."""
    f, r, t = canonical_order(*summary_arrays(summary))
    p = model.params_
    with quiet():
        if isinstance(model, BetaGeoFitter):
            logp = np.log(p[["r", "alpha", "a", "b"]].to_numpy(dtype=float))
            return float(-BetaGeoFitter._negative_log_likelihood(logp, f, r, t, np.ones_like(f), 0.0) * len(f))
        if isinstance(model, ParetoNBDFitter):
            params = p[["r", "alpha", "s", "beta"]].to_numpy(dtype=float)
            return float(ParetoNBDFitter._conditional_log_likelihood(params, f, r, t).sum())
    raise TypeError(f"unsupported model {type(model).__name__}")


def gamma_gamma_log_likelihood(gg: GammaGammaFitter) -> float:
    p, q, v = gg.params_[["p", "q", "v"]].to_numpy(dtype=float)
    x = gg.data["frequency"].to_numpy(dtype=float)
    m = gg.data["monetary_value"].to_numpy(dtype=float)
    ll = (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )
    return float(ll.sum())


def fit_transaction_models(summary: pd.DataFrame, model: str = "auto", penalizer: float = 0.0):
    """Fit BG/NBD and/or Pareto/NBD. Returns (selected name, models, log-likelihoods, seconds);
    ``'auto'`` selects the higher finite log-likelihood (BG/NBD on a tie)."""
    if model not in ("auto", *TRANSACTION_MODELS):
        raise ValueError(f"model must be 'auto', 'bgnbd' or 'pareto_nbd', got {model!r}")
    names = TRANSACTION_MODELS if model == "auto" else (model,)
    fitters = {"bgnbd": fit_bgnbd, "pareto_nbd": fit_pareto_nbd}
    models, lls, secs = {}, {}, {}
    for name in names:
        t0 = time.perf_counter()
        models[name] = fitters[name](summary, penalizer)
        secs[name] = time.perf_counter() - t0
        lls[name] = log_likelihood(models[name], summary)
    if model != "auto":
        return model, models, lls, secs
    finite = [n for n in names if np.isfinite(lls[n])]  # lifetimes' Pareto/NBD can overflow to NaN
    if not finite:
        raise FloatingPointError(f"no transaction model gave a finite log-likelihood: {lls}")
    return max(finite, key=lambda n: (lls[n], n == "bgnbd")), models, lls, secs


def fit_spend_model(summary: pd.DataFrame, penalizer: float = 0.0):
    """Gamma-Gamma and the population mean spend per purchase day.

    Returns (Gamma-Gamma or None, population mean spend, seconds, repeat buyers). Without a usable
    Gamma-Gamma (too few repeat buyers, optimiser failure, q <= 1) the mean is the empirical mean
    spend of repeat buyers."""
    f, _, _, m = summary_arrays(summary, need_monetary=True)
    repeat = (f > 0) & (m > 0)
    t0 = time.perf_counter()
    try:
        gg = fit_gamma_gamma(summary, penalizer)
    except Exception:  # too few repeat buyers or optimiser failure: empirical fallback
        gg = None
    seconds = time.perf_counter() - t0
    if gg is not None and gg.params_["q"] > 1:
        p, q, v = gg.params_[["p", "q", "v"]]
        return gg, float(p * v / (q - 1)), seconds, int(repeat.sum())
    mean = float(np.sort(m[repeat]).mean()) if repeat.any() else 0.0  # sorted: order-free sum
    return None, mean, seconds, int(repeat.sum())
