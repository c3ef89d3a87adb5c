"""Customer lifetime value: BG/NBD or Pareto/NBD + Gamma-Gamma (``lifetimes``) on an RFM summary.

Input is a plain DataFrame in lifetimes' summary format with **daily periods**
(``customer_rfm`` from dbt, or ``lifetimes.utils.summary_data_from_transaction_data(freq='D')``):

========================  ==============================================================
``frequency``             repeat purchase days (distinct purchase days - 1)
``recency``               days from the first to the last purchase
``T``                     days from the first purchase to ``observation_end``
``monetary_value``        mean spend of the repeat purchase days (0 when frequency is 0)
========================  ==============================================================

Everything is in days: rate parameters (``alpha`` of BG/NBD and Pareto/NBD, ``beta`` of
Pareto/NBD) are **per day**; multiply by 7 to compare with papers that report weeks.

Documented choices
------------------
* Transaction model: ``model='auto'`` fits BG/NBD and Pareto/NBD and keeps the one with the
  higher log-likelihood (both have 4 parameters, so this equals AIC/BIC selection); or name one
  with ``'bgnbd'`` / ``'pareto_nbd'``. Log-likelihoods are recomputed in original day units from
  the models' own formulas (lifetimes reports them on an internally rescaled time axis and with
  different normalisations per model).
* Penalizer: 0 by default (the CDNOW reproduction uses 0). A small L2 penalizer
  (``penalizer`` argument) is applied to all three models only when the caller asks for it.
* Gamma-Gamma is fitted on repeat buyers with ``monetary_value > 0``. Expected average spend is
  its conditional expectation; customers without a repeat purchase get the population mean
  ``p * gamma / (q - 1)`` (the conditional expectation with x = 0). If the fit gives q <= 1
  (population mean undefined) it is refitted with lifetimes' ``q_constraint`` and, failing
  that, the empirical mean spend of repeat buyers is used (recorded in the params table).
* CLV over H months (1 month = 30 days) with monthly discount rate d (default 0.01):
  ``CLV_H = sum_{i=1..H} E[spend] * (E[N(30 i)] - E[N(30 (i-1))]) / (1 + d)^i`` -- exactly
  ``lifetimes.utils._customer_lifetime_value`` with ``freq='D'``, vectorised (one prediction
  call per month for all customers). Monthly increments are clipped at 0, so CLV is never
  negative and non-decreasing in the horizon. No margin is applied (CLV is in spend units).
* Holdout naive baseline: each customer keeps the repeat-purchase rate observed in the
  calibration period, ``frequency_cal / T_cal`` per day (0 when ``T_cal`` is 0, i.e. the first
  purchase was on the calibration end day), times ``duration_holdout``.

lifetimes 0.11.3 on pandas 3 / numpy 2 -- what was hit and how it is handled here
--------------------------------------------------------------------------------
* ``ParetoNBDFitter.fit`` starts Nelder-Mead from ``np.random.normal(1, 0.05)`` drawn from the
  *global* NumPy RNG, so results depend on whatever ran before. We always pass
  ``initial_params`` (ones on lifetimes' rescaled time axis) and ``tol=1e-6``: deterministic.
* ``BetaGeoFitter`` has no ``log_likelihood_``; its ``_negative_log_likelihood_`` is a *mean* on
  rescaled time, ``ParetoNBDFitter``'s is a *sum* divided by ``weights.mean()``: not
  comparable, so :func:`log_likelihood` recomputes the total in day units.
* ``calibration_and_holdout_data`` without ``monetary_value_col`` raises
  ``ValueError: No objects to concatenate`` on pandas 3: always pass a monetary column.
* ``ParetoNBDFitter``'s likelihood overflows (``logaddexp(inf, inf)`` -> NaN, inside its
  ``hyp2f1`` term) for customers with very many repeat purchase days (~100+ per year, common in
  the L.Point-like generated data); the fit then returns parameters with a NaN likelihood.
  ``'auto'`` never selects a model whose day-unit log-likelihood is not finite.
* ``BetaGeoFitter`` / ``GammaGammaFitter`` raise ``ConvergenceError`` when BFGS stops with
  "precision loss" at an optimum (gradient ~1e-7), depending on floating-point details such as
  the BLAS thread count: :mod:`loyalty_analytics.lifetimes_fitters` accepts that stop when the
  gradient is ~0 (seen once on the 30k benchmark).
* Row order: the likelihoods and metrics are float sums over customers, so their last bits (and,
  through BFGS, the fitted parameters at ~1e-11) depend on the order the rows arrive in, and a
  warehouse query returns rows in no fixed order. Fits therefore see the rows sorted by their
  values (:func:`canonical_order`; the likelihood depends only on the multiset of rows) and
  metrics sort customers by ``customer_id`` (:func:`by_customer`); predictions are per row.
  Equal inputs give bit-identical outputs whatever the input order.
* ``lifetimes.utils`` sets ``pd.options.mode.chained_assignment`` at import, which pandas 3
  deprecates (``Pandas4Warning``); harmless, silenced at import here.
* ``_customer_lifetime_value`` initialises ``df['clv'] = 0`` (int) and adds floats; it works but
  loops over months with pandas Series; we use the vectorised equivalent described above.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from lifetimes import ParetoNBDFitter
    from scipy.special import gammaln

from loyalty_analytics.lifetimes_fitters import BetaGeoFitter, GammaGammaFitter

SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")
TRANSACTION_MODELS = ("bgnbd", "pareto_nbd")
DAYS_PER_MONTH = 30
DEFAULT_PURCHASE_HORIZONS_DAYS = (30, 90, 180, 365)
DEFAULT_CLV_MONTHS = (1, 3, 6, 12)
DEFAULT_DISCOUNT_RATE = 0.01  # monthly

MODEL_NAMES = {  # model_name values used in metric rows
    "bgnbd": "clv_bgnbd",
    "pareto_nbd": "clv_pareto_nbd",
    "gamma_gamma": "clv_gamma_gamma",
    "naive": "clv_naive_past_rate",
}


# --------------------------------------------------------------------------- input


def _summary_arrays(summary: pd.DataFrame, need_monetary: bool = False):
    missing = [c for c in SUMMARY_COLUMNS[: 4 if need_monetary else 3] if c not in summary.columns]
    if missing:
        raise ValueError(f"RFM summary is missing column(s) {missing}; need {list(SUMMARY_COLUMNS)}")
    f = summary["frequency"].to_numpy(dtype=float)
    r = summary["recency"].to_numpy(dtype=float)
    t = summary["T"].to_numpy(dtype=float)
    if len(f) == 0:
        raise ValueError("RFM summary is empty")
    bad = ~np.isfinite(f) | ~np.isfinite(r) | ~np.isfinite(t) | (f < 0) | (r < 0) | (r > t) | (f != np.round(f))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"invalid RFM row {i}: frequency={f[i]}, recency={r[i]}, T={t[i]} "
            "(need integer frequency >= 0 and 0 <= recency <= T)"
        )
    if need_monetary:
        m = summary["monetary_value"].to_numpy(dtype=float)
        return f, r, t, np.nan_to_num(m, nan=0.0)
    return f, r, t


def canonical_order(*columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """The rows of (validated) summary columns sorted by their values, first column first: a
    likelihood summed over them depends only on the rows' values, not on the order a query
    returned them in."""
    order = np.lexsort(columns[::-1])
    return tuple(c[order] for c in columns)


def by_customer(frame: pd.DataFrame, id_column: str = "customer_id") -> pd.DataFrame:
    """Rows sorted by customer id (when the frame has one), so metric sums over customers come
    out the same whatever order the rows were read in."""
    if id_column not in frame.columns:
        return frame
    return frame.iloc[np.argsort(frame[id_column].astype(str).to_numpy(), kind="stable")].reset_index(drop=True)


# --------------------------------------------------------------------------- fitting


@contextlib.contextmanager
def _quiet():
    """lifetimes prints the scipy result on non-convergence and emits overflow RuntimeWarnings
    while the optimiser explores; keep both out of dbt logs (failures still raise)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def fit_bgnbd(summary: pd.DataFrame, penalizer: float = 0.0) -> BetaGeoFitter:
    f, r, t = canonical_order(*_summary_arrays(summary))
    with _quiet():
        return BetaGeoFitter(penalizer_coef=penalizer).fit(f, r, t)


def fit_pareto_nbd(summary: pd.DataFrame, penalizer: float = 0.0, maxiter: int = 2000) -> ParetoNBDFitter:
    """Pareto/NBD; customers are collapsed to distinct (frequency, recency, T) patterns with
    weights (lifetimes' ``weights`` argument; same likelihood, fewer hyp2f1 evaluations)."""
    f, r, t = _summary_arrays(summary)
    pat = pd.DataFrame({"f": f, "r": r, "t": t}).value_counts().sort_index().reset_index(name="w")  # order-free
    with _quiet():
        # deterministic start instead of lifetimes' unseeded np.random.normal default
        return ParetoNBDFitter(penalizer_coef=penalizer).fit(
            pat["f"].to_numpy(), pat["r"].to_numpy(), pat["t"].to_numpy(), weights=pat["w"].to_numpy(),
            initial_params=np.ones(4), tol=1e-6, maxiter=maxiter,
        )


def fit_gamma_gamma(summary: pd.DataFrame, penalizer: float = 0.0) -> GammaGammaFitter:
    """Gamma-Gamma on repeat buyers (frequency > 0 and monetary_value > 0)."""
    f, _, _, m = _summary_arrays(summary, need_monetary=True)
    f, m = canonical_order(f, m)
    keep = (f > 0) & (m > 0)
    if keep.sum() < 3:
        raise ValueError(f"Gamma-Gamma needs repeat buyers with spend > 0; found {int(keep.sum())}")
    with _quiet():
        gg = GammaGammaFitter(penalizer_coef=penalizer).fit(f[keep], m[keep])
        if gg.params_["q"] <= 1:
            gg = GammaGammaFitter(penalizer_coef=penalizer).fit(f[keep], m[keep], q_constraint=True)
    return gg


def log_likelihood(model, summary: pd.DataFrame) -> float:
    """Total log-likelihood of the summary under a fitted BG/NBD or Pareto/NBD, in day units."""
    f, r, t = canonical_order(*_summary_arrays(summary))
    p = model.params_
    with _quiet():
        return _log_likelihood(model, p, f, r, t)


def _log_likelihood(model, p, f, r, t) -> float:
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
        gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v)
        + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(x * m + v)
    )
    return float(ll.sum())


@dataclass
class CLVFit:
    """Fitted transaction model(s) + Gamma-Gamma."""

    selected: str  # 'bgnbd' | 'pareto_nbd'
    transaction_models: dict  # name -> fitted lifetimes model
    gamma_gamma: GammaGammaFitter | None
    log_likelihoods: dict = field(default_factory=dict)
    fit_seconds: dict = field(default_factory=dict)
    n_customers: dict = field(default_factory=dict)
    penalizer: float = 0.0
    population_mean_spend: float = float("nan")
    population_mean_source: str = "gamma_gamma"

    @property
    def model(self):
        return self.transaction_models[self.selected]


def fit_transaction_model(summary: pd.DataFrame, model: str = "auto", penalizer: float = 0.0):
    """Fit BG/NBD and/or Pareto/NBD. Returns (selected name, models, log-likelihoods, seconds)."""
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
    # a non-finite log-likelihood (lifetimes' Pareto/NBD overflows to NaN for customers with very
    # many repeat days) disqualifies the model in 'auto'
    ok = [n for n in names if np.isfinite(lls[n])]
    if model == "auto":
        if not ok:
            raise FloatingPointError(f"no transaction model gave a finite log-likelihood: {lls}")
        selected = max(ok, key=lambda n: (lls[n], n == "bgnbd"))
    else:
        selected = model
    return selected, models, lls, secs


def fit_clv(summary: pd.DataFrame, model: str = "auto", penalizer: float = 0.0) -> CLVFit:
    """Fit the transaction model(s) and Gamma-Gamma on a plain RFM summary DataFrame."""
    selected, models, lls, secs = fit_transaction_model(summary, model, penalizer)
    n = len(summary)
    fit = CLVFit(selected, models, None, lls, secs, {k: n for k in models}, penalizer)
    f, _, _, m = _summary_arrays(summary, need_monetary=True)
    repeat = (f > 0) & (m > 0)
    t0 = time.perf_counter()
    try:
        gg = fit_gamma_gamma(summary, penalizer)
    except Exception:  # too few repeat buyers or optimiser failure: empirical fallback
        gg = None
    fit.fit_seconds["gamma_gamma"] = time.perf_counter() - t0
    fit.n_customers["gamma_gamma"] = int(repeat.sum())
    if gg is not None and gg.params_["q"] > 1:
        fit.gamma_gamma = gg
        fit.log_likelihoods["gamma_gamma"] = gamma_gamma_log_likelihood(gg)
        p, q, v = gg.params_[["p", "q", "v"]]
        fit.population_mean_spend = float(p * v / (q - 1))
    else:
        fit.gamma_gamma = None
        fit.population_mean_source = "empirical_mean_of_repeat_buyers"
        fit.population_mean_spend = float(np.sort(m[repeat]).mean()) if repeat.any() else 0.0  # order-free
    return fit


# --------------------------------------------------------------------------- prediction


def expected_purchases(fit_or_model, t_days, summary: pd.DataFrame) -> np.ndarray:
    model = fit_or_model.model if isinstance(fit_or_model, CLVFit) else fit_or_model
    f, r, t = _summary_arrays(summary)
    t_days = np.broadcast_to(np.asarray(t_days, dtype=float), f.shape)
    out = np.zeros_like(f)
    pos = t_days > 0
    if pos.any():
        with _quiet():
            out[pos] = np.asarray(model.conditional_expected_number_of_purchases_up_to_time(t_days[pos], f[pos], r[pos], t[pos]), dtype=float)
    bad = ~np.isfinite(out)
    if bad.any():
        raise FloatingPointError(f"{type(model).__name__} gave non-finite expected purchases for {int(bad.sum())} customers")
    return np.maximum(out, 0.0)


def probability_alive(fit_or_model, summary: pd.DataFrame) -> np.ndarray:
    model = fit_or_model.model if isinstance(fit_or_model, CLVFit) else fit_or_model
    f, r, t = _summary_arrays(summary)
    with _quiet():
        p = np.asarray(model.conditional_probability_alive(f, r, t), dtype=float)
    return np.clip(p, 0.0, 1.0)


def expected_average_spend(fit: CLVFit, summary: pd.DataFrame) -> np.ndarray:
    """Gamma-Gamma conditional expected spend per purchase; population mean for x = 0."""
    f, _, _, m = _summary_arrays(summary, need_monetary=True)
    pop = fit.population_mean_spend
    if fit.gamma_gamma is None:
        out = np.where(f > 0, m, pop)
    else:
        p, q, _ = fit.gamma_gamma.params_[["p", "q", "v"]].to_numpy(dtype=float)
        w = p * f / (p * f + q - 1)  # individual weight; 0 for customers without repeat purchases
        out = (1 - w) * pop + w * np.maximum(m, 0.0)
    return np.maximum(out, 0.0)


def customer_lifetime_value(
    fit: CLVFit,
    summary: pd.DataFrame,
    months=DEFAULT_CLV_MONTHS,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
    spend: np.ndarray | None = None,
) -> dict:
    """Discounted CLV for each horizon in ``months`` (dict months -> array); see module doc."""
    months = sorted(set(int(h) for h in months))
    if not months or months[0] < 1:
        raise ValueError("CLV horizons must be positive whole months")
    spend = expected_average_spend(fit, summary) if spend is None else spend
    horizon = months[-1]
    cum = np.column_stack(
        [np.zeros(len(summary))] + [expected_purchases(fit, DAYS_PER_MONTH * i, summary) for i in range(1, horizon + 1)]
    )
    increments = np.maximum(np.diff(cum, axis=1), 0.0)
    discount = (1.0 + discount_rate) ** -np.arange(1, horizon + 1)
    running = np.cumsum(increments * discount, axis=1) * spend[:, None]
    return {h: running[:, h - 1] for h in months}


def predict(
    fit: CLVFit,
    summary: pd.DataFrame,
    purchase_horizons_days=DEFAULT_PURCHASE_HORIZONS_DAYS,
    clv_months=DEFAULT_CLV_MONTHS,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
    id_column: str = "customer_id",
) -> pd.DataFrame:
    """One row per customer, in the input order: p_alive, expected_purchases_<N>d,
    expected_avg_spend, clv_<H>m. Each value depends only on its own row and the fit."""
    out = pd.DataFrame(index=range(len(summary)))
    if id_column in summary.columns:
        out[id_column] = summary[id_column].to_numpy()
    out["p_alive"] = probability_alive(fit, summary)
    for d in purchase_horizons_days:
        out[f"expected_purchases_{int(d)}d"] = expected_purchases(fit, d, summary)
    spend = expected_average_spend(fit, summary)
    out["expected_avg_spend"] = spend
    for h, v in customer_lifetime_value(fit, summary, clv_months, discount_rate, spend).items():
        out[f"clv_{h}m"] = v
    out["transaction_model"] = fit.selected
    return out


def params_table(fit: CLVFit, discount_rate: float = DEFAULT_DISCOUNT_RATE) -> pd.DataFrame:
    """Long table (model, parameter, value). Rates are per day. Rows per model: its parameters,
    log_likelihood, n_customers, fit_seconds, penalizer_coef, selected (1/0); Gamma-Gamma adds
    population_mean_spend; model 'clv' holds monthly_discount_rate and days_per_month."""
    rows = []
    for name, m in fit.transaction_models.items():
        for k, v in m.params_.items():
            rows.append((name, k, float(v)))
        rows += [
            (name, "log_likelihood", fit.log_likelihoods[name]),
            (name, "n_customers", float(fit.n_customers[name])),
            (name, "fit_seconds", fit.fit_seconds[name]),
            (name, "penalizer_coef", float(fit.penalizer)),
            (name, "selected", float(name == fit.selected)),
        ]
    if fit.gamma_gamma is not None:
        for k, v in fit.gamma_gamma.params_.items():
            rows.append(("gamma_gamma", "gamma" if k == "v" else k, float(v)))
        rows.append(("gamma_gamma", "log_likelihood", fit.log_likelihoods["gamma_gamma"]))
    rows += [
        ("gamma_gamma", "n_customers", float(fit.n_customers.get("gamma_gamma", 0))),
        ("gamma_gamma", "fit_seconds", fit.fit_seconds.get("gamma_gamma", float("nan"))),
        ("gamma_gamma", "penalizer_coef", float(fit.penalizer)),
        ("gamma_gamma", "population_mean_spend", fit.population_mean_spend),
        ("gamma_gamma", "population_mean_is_empirical", float(fit.gamma_gamma is None)),
        ("clv", "monthly_discount_rate", float(discount_rate)),
        ("clv", "days_per_month", float(DAYS_PER_MONTH)),
    ]
    return pd.DataFrame(rows, columns=["model", "parameter", "value"])


def fit_from_params(params: pd.DataFrame) -> CLVFit:
    """Rebuild a :class:`CLVFit` from :func:`params_table` output (no refitting): predictions
    in a downstream model are reproducible from the stored parameters alone."""
    p = params.set_index(["model", "parameter"])["value"]
    names = {"bgnbd": (BetaGeoFitter, ["r", "alpha", "a", "b"]), "pareto_nbd": (ParetoNBDFitter, ["r", "alpha", "s", "beta"])}
    models, lls, secs, ns = {}, {}, {}, {}
    selected = None
    for name, (cls, keys) in names.items():
        if (name, "r") not in p.index:
            continue
        m = cls()
        m.params_ = pd.Series([float(p[name, k]) for k in keys], index=keys)
        models[name] = m
        lls[name], secs[name], ns[name] = float(p[name, "log_likelihood"]), float(p[name, "fit_seconds"]), int(p[name, "n_customers"])
        if p.get((name, "selected"), 0) == 1:
            selected = name
    if not models or selected is None:
        raise ValueError("params table holds no selected BG/NBD or Pareto/NBD model")
    fit = CLVFit(selected, models, None, lls, secs, ns, float(p.get((selected, "penalizer_coef"), 0.0)))
    if ("gamma_gamma", "p") in p.index:
        gg = GammaGammaFitter()
        gg.params_ = pd.Series([float(p["gamma_gamma", k]) for k in ("p", "q", "gamma")], index=["p", "q", "v"])
        fit.gamma_gamma = gg
        fit.log_likelihoods["gamma_gamma"] = float(p["gamma_gamma", "log_likelihood"])
    fit.population_mean_spend = float(p["gamma_gamma", "population_mean_spend"])
    if fit.gamma_gamma is None:
        fit.population_mean_source = "empirical_mean_of_repeat_buyers"
    fit.n_customers["gamma_gamma"] = int(p.get(("gamma_gamma", "n_customers"), 0))
    fit.fit_seconds["gamma_gamma"] = float(p.get(("gamma_gamma", "fit_seconds"), float("nan")))
    return fit


def discount_rate_from_params(params: pd.DataFrame, default: float = DEFAULT_DISCOUNT_RATE) -> float:
    r = params[(params["model"] == "clv") & (params["parameter"] == "monthly_discount_rate")]["value"]
    return float(r.iloc[0]) if len(r) else default


# --------------------------------------------------------------------------- evaluation


def _metric_rows(model_name, metrics: dict, split: str):
    return [(model_name, k, None, split, float(v)) for k, v in metrics.items()]


METRIC_COLUMNS = ["model_name", "metric", "k", "split", "value"]


def metrics_frame(rows) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=METRIC_COLUMNS)
    df["k"] = df["k"].astype("Int64")
    df["value"] = df["value"].astype(float)
    return df


def regression_metrics(predicted, actual) -> dict:
    predicted = np.asarray(predicted, dtype=float)
    actual = np.asarray(actual, dtype=float)
    err = predicted - actual
    if len(actual) > 1 and predicted.std() > 0 and actual.std() > 0:
        corr = float(np.corrcoef(predicted, actual)[0, 1])
    else:
        corr = float("nan")
    return {
        "mae": float(np.abs(err).mean()),
        "rmse": float(np.sqrt((err**2).mean())),
        "pearson_r": corr,
        "predicted_total": float(predicted.sum()),
        "actual_total": float(actual.sum()),
        "total_relative_error": float(predicted.sum() / actual.sum() - 1) if actual.sum() > 0 else float("nan"),
        "n_customers": float(len(actual)),
    }


def naive_holdout_prediction(cal_holdout: pd.DataFrame) -> np.ndarray:
    """frequency_cal / T_cal (0 if T_cal == 0) times duration_holdout."""
    f = cal_holdout["frequency_cal"].to_numpy(dtype=float)
    t = cal_holdout["T_cal"].to_numpy(dtype=float)
    rate = np.divide(f, t, out=np.zeros_like(f), where=t > 0)
    return rate * cal_holdout["duration_holdout"].to_numpy(dtype=float)


def _cal_summary(cal_holdout: pd.DataFrame) -> pd.DataFrame:
    need = ["frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout"]
    missing = [c for c in need if c not in cal_holdout.columns]
    if missing:
        raise ValueError(f"calibration/holdout table is missing column(s) {missing}")
    out = pd.DataFrame(
        {
            "frequency": cal_holdout["frequency_cal"].to_numpy(dtype=float),
            "recency": cal_holdout["recency_cal"].to_numpy(dtype=float),
            "T": cal_holdout["T_cal"].to_numpy(dtype=float),
        }
    )
    mv = cal_holdout["monetary_value_cal"] if "monetary_value_cal" in cal_holdout.columns else 0.0
    out["monetary_value"] = np.asarray(mv, dtype=float) if np.ndim(mv) else 0.0
    return out


def holdout_metrics(cal_holdout: pd.DataFrame, model: str = "auto", penalizer: float = 0.0, fit: CLVFit | None = None) -> pd.DataFrame:
    """Fit on the calibration summary, predict ``frequency_holdout`` over ``duration_holdout``.

    Rows (model_name, metric, k=None, split='holdout', value) for every fitted transaction model
    (the selected one and, with model='auto', the other) and the naive baseline; metrics: mae,
    rmse, pearson_r, predicted_total, actual_total, total_relative_error, n_customers, plus
    'selected' (1/0) for the transaction models.
    """
    cal_holdout = by_customer(cal_holdout)
    cal = _cal_summary(cal_holdout)
    if fit is None:
        fit = fit_clv(cal, model=model, penalizer=penalizer)
    actual = cal_holdout["frequency_holdout"].to_numpy(dtype=float)
    duration = cal_holdout["duration_holdout"].to_numpy(dtype=float)
    rows = []
    for name, m in fit.transaction_models.items():
        pred = expected_purchases(m, duration, cal)
        metrics = regression_metrics(pred, actual)
        metrics["selected"] = float(name == fit.selected)
        rows += _metric_rows(MODEL_NAMES[name], metrics, "holdout")
    rows += _metric_rows(MODEL_NAMES["naive"], regression_metrics(naive_holdout_prediction(cal_holdout), actual), "holdout")
    # spend check: Gamma-Gamma expected spend vs observed mean holdout spend of holdout buyers
    if "monetary_value_holdout" in cal_holdout.columns and "monetary_value_cal" in cal_holdout.columns:
        buyers = actual > 0
        if buyers.any():
            exp_spend = expected_average_spend(fit, cal)[buyers]
            obs = cal_holdout["monetary_value_holdout"].to_numpy(dtype=float)[buyers]
            r = regression_metrics(exp_spend, obs)
            rows += _metric_rows(MODEL_NAMES["gamma_gamma"], {f"spend_{k}": r[k] for k in ("mae", "rmse", "pearson_r")}, "holdout")
    return metrics_frame(rows)


def gamma_gamma_independence(summary: pd.DataFrame) -> float:
    """Pearson corr(frequency, monetary_value) among repeat buyers (seed 001: -0.032)."""
    f, _, _, m = _summary_arrays(summary, need_monetary=True)
    keep = f > 0
    if keep.sum() < 3 or f[keep].std() == 0 or m[keep].std() == 0:
        return float("nan")
    return float(np.corrcoef(f[keep], m[keep])[0, 1])


def load_truth(customer_ids, columns=None, truth_path: str | Path | None = None) -> pd.DataFrame | None:
    """Planted ground truth aligned to ``customer_ids``, or None.

    Returns None unless ``truth_dir()/customers.parquet`` exists and every customer of the data
    is in it (truth may also hold customers who never purchased). A stale truth file from
    another run fails that check and is ignored.
    """
    if truth_path is None:
        from loyalty_analytics.paths import truth_dir

        truth_path = truth_dir() / "customers.parquet"
    truth_path = Path(truth_path)
    if not truth_path.exists():
        return None
    try:
        truth = pd.read_parquet(truth_path, columns=None if columns is None else ["customer_id", *columns])
    except Exception:
        return None
    ids = pd.Index(pd.Series(customer_ids).astype(str))
    tids = pd.Index(truth["customer_id"].astype(str))
    if len(ids) == 0 or not tids.is_unique or not ids.isin(tids).all():
        return None
    truth = truth.assign(customer_id=truth["customer_id"].astype(str)).set_index("customer_id")
    return truth.loc[ids].reset_index()


def p_alive_auc(p_alive, alive) -> float:
    from sklearn.metrics import roc_auc_score

    alive = np.asarray(alive, dtype=bool)
    if alive.all() or not alive.any():
        return float("nan")
    return float(roc_auc_score(alive, np.asarray(p_alive, dtype=float)))


# --------------------------------------------------------------------------- one-call entry points


def run_clv(
    rfm: pd.DataFrame,
    model: str = "auto",
    penalizer: float = 0.0,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
    clv_months=DEFAULT_CLV_MONTHS,
    purchase_horizons_days=DEFAULT_PURCHASE_HORIZONS_DAYS,
):
    """Fit on ``customer_rfm`` and return (fit, predictions, params)."""
    fit = fit_clv(rfm, model=model, penalizer=penalizer)
    preds = predict(fit, rfm, purchase_horizons_days, clv_months, discount_rate)
    return fit, preds, params_table(fit, discount_rate)


def evaluate_clv(
    rfm: pd.DataFrame,
    cal_holdout: pd.DataFrame | None = None,
    model: str = "auto",
    penalizer: float = 0.0,
    fit: CLVFit | None = None,
    truth: pd.DataFrame | None | str = "auto",
) -> pd.DataFrame:
    """All CLV metric rows: holdout check, Gamma-Gamma independence, p_alive AUC vs truth.

    ``truth='auto'`` reads it with :func:`load_truth` (skipped when absent or stale); pass a
    DataFrame with customer_id, alive_at_end to supply it, or None to skip.
    """
    rfm = by_customer(rfm)
    rows = []
    frames = []
    if cal_holdout is not None and len(cal_holdout):
        frames.append(holdout_metrics(cal_holdout, model=model, penalizer=penalizer))
    rows += _metric_rows(MODEL_NAMES["gamma_gamma"], {"corr_frequency_monetary": gamma_gamma_independence(rfm)}, "full")
    if fit is None:
        fit = fit_clv(rfm, model=model, penalizer=penalizer)
    if isinstance(truth, str) and truth == "auto":
        truth = load_truth(rfm["customer_id"], ["alive_at_end"]) if "customer_id" in rfm.columns else None
    if truth is not None:
        t = truth.set_index(truth["customer_id"].astype(str))["alive_at_end"]
        alive = t.reindex(rfm["customer_id"].astype(str)).to_numpy()
        if not pd.isna(alive).any():
            p = probability_alive(fit, rfm)
            rows += _metric_rows(MODEL_NAMES[fit.selected], {"p_alive_auc": p_alive_auc(p, alive.astype(bool))}, "truth")
    frames.append(metrics_frame(rows))
    return pd.concat(frames, ignore_index=True)
