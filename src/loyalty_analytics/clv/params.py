"""The store of a fitted :class:`~loyalty_analytics.clv.model.CLVModel`: a long table
``(model, parameter, value)`` (published as ``clv_model_params``), and back.

Rows per transaction model: its parameters (rates per day), log_likelihood, n_customers,
fit_seconds, penalizer_coef, selected (1/0). Gamma-Gamma: p, q, gamma (lifetimes' ``v``),
log_likelihood (when fitted), n_customers, fit_seconds, penalizer_coef, population_mean_spend,
population_mean_is_empirical. Model ``clv``: monthly_discount_rate, days_per_month.
"""

from __future__ import annotations

import pandas as pd

from loyalty_analytics.clv.fitters import BetaGeoFitter, GammaGammaFitter, ParetoNBDFitter
from loyalty_analytics.clv.predict import DAYS_PER_MONTH, DEFAULT_DISCOUNT_RATE

PARAMS_COLUMNS = ["model", "parameter", "value"]
TRANSACTION_PARAMETERS = {
    "bgnbd": (BetaGeoFitter, ("r", "alpha", "a", "b")),
    "pareto_nbd": (ParetoNBDFitter, ("r", "alpha", "s", "beta")),
}
GAMMA_GAMMA_STORED = {"p": "p", "q": "q", "v": "gamma"}  # lifetimes name -> stored name


def params_table(model) -> pd.DataFrame:
    """The long table of a fitted CLVModel."""
    rows = []
    for name, fitted in model.transaction_models_.items():
        rows += [(name, key, float(value)) for key, value in fitted.params_.items()]
        rows += [
            (name, "log_likelihood", model.log_likelihoods_[name]),
            (name, "n_customers", float(model.n_customers_[name])),
            (name, "fit_seconds", model.fit_seconds_[name]),
            (name, "penalizer_coef", float(model.penalizer)),
            (name, "selected", float(name == model.selected_)),
        ]
    if model.gamma_gamma_ is not None:
        rows += [("gamma_gamma", GAMMA_GAMMA_STORED[k], float(v)) for k, v in model.gamma_gamma_.params_.items()]
        rows.append(("gamma_gamma", "log_likelihood", model.log_likelihoods_["gamma_gamma"]))
    rows += [
        ("gamma_gamma", "n_customers", float(model.n_customers_.get("gamma_gamma", 0))),
        ("gamma_gamma", "fit_seconds", model.fit_seconds_.get("gamma_gamma", float("nan"))),
        ("gamma_gamma", "penalizer_coef", float(model.penalizer)),
        ("gamma_gamma", "population_mean_spend", model.population_mean_spend_),
        ("gamma_gamma", "population_mean_is_empirical", float(model.gamma_gamma_ is None)),
        ("clv", "monthly_discount_rate", float(model.discount_rate)),
        ("clv", "days_per_month", float(DAYS_PER_MONTH)),
    ]
    return pd.DataFrame(rows, columns=PARAMS_COLUMNS)


def _with_params(fitter_class, values: pd.Series, keys) -> object:
    fitter = fitter_class()
    fitter.params_ = pd.Series([float(values[k]) for k in keys], index=list(keys))
    return fitter


def read_params_table(table: pd.DataFrame) -> tuple[dict, dict]:
    """(hyper-parameters, learned attributes) of the model a params table stores; rows may come
    in any order. The transaction-model setting is 'auto' when both models were fitted."""
    p = table.set_index(["model", "parameter"])["value"]
    models, lls, secs, ns, selected = {}, {}, {}, {}, None
    for name, (fitter_class, keys) in TRANSACTION_PARAMETERS.items():
        if (name, "r") not in p.index:
            continue
        models[name] = _with_params(fitter_class, p[name], keys)
        lls[name], secs[name], ns[name] = (
            float(p[name, "log_likelihood"]),
            float(p[name, "fit_seconds"]),
            int(p[name, "n_customers"]),
        )
        if p.get((name, "selected"), 0) == 1:
            selected = name
    if not models or selected is None:
        raise ValueError("params table holds no selected BG/NBD or Pareto/NBD model")
    gamma_gamma = None
    if ("gamma_gamma", "p") in p.index:
        gamma_gamma = _with_params(GammaGammaFitter, p["gamma_gamma"].rename({"gamma": "v"}), ("p", "q", "v"))
        lls["gamma_gamma"] = float(p["gamma_gamma", "log_likelihood"])
    secs["gamma_gamma"] = float(p.get(("gamma_gamma", "fit_seconds"), float("nan")))
    ns["gamma_gamma"] = int(p.get(("gamma_gamma", "n_customers"), 0))
    hyper = {
        "transaction_model": "auto" if len(models) > 1 else next(iter(models)),
        "penalizer": float(p.get((selected, "penalizer_coef"), 0.0)),
        "discount_rate": float(p.get(("clv", "monthly_discount_rate"), DEFAULT_DISCOUNT_RATE)),
    }
    learned = {
        "selected_": selected,
        "transaction_models_": models,
        "gamma_gamma_": gamma_gamma,
        "population_mean_spend_": float(p["gamma_gamma", "population_mean_spend"]),
        "log_likelihoods_": lls,
        "fit_seconds_": secs,
        "n_customers_": ns,
    }
    return hyper, learned
