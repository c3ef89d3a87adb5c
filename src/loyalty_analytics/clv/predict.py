"""Per-customer predictions from fitted lifetimes models: P(alive), expected purchase days,
expected spend per purchase day and discounted CLV (formula: docs/clv.md, "CLV"). Each value
depends only on its own summary row and the model parameters."""

from __future__ import annotations

import numpy as np
import pandas as pd

from loyalty_analytics.clv.fitters import quiet
from loyalty_analytics.clv.summary import summary_arrays

DAYS_PER_MONTH = 30
DEFAULT_PURCHASE_HORIZONS_DAYS = (30, 90, 180, 365)
DEFAULT_CLV_MONTHS = (1, 3, 6, 12)
DEFAULT_DISCOUNT_RATE = 0.01  # monthly


def expected_purchases(transaction_model, t_days, summary: pd.DataFrame) -> np.ndarray:
    """Expected purchase days in the next ``t_days`` (scalar or one per row; 0 where t <= 0)."""
    f, r, t = summary_arrays(summary)
    t_days = np.broadcast_to(np.asarray(t_days, dtype=float), f.shape)
    out = np.zeros_like(f)
    pos = t_days > 0
    if pos.any():
        with quiet():
            out[pos] = np.asarray(
                transaction_model.conditional_expected_number_of_purchases_up_to_time(
                    t_days[pos], f[pos], r[pos], t[pos]
                ),
                dtype=float,
            )
    bad = ~np.isfinite(out)
    if bad.any():
        raise FloatingPointError(
            f"{type(transaction_model).__name__} gave non-finite expected purchases for {int(bad.sum())} customers"
        )
    return np.maximum(out, 0.0)


def probability_alive(transaction_model, summary: pd.DataFrame) -> np.ndarray:
    f, r, t = summary_arrays(summary)
    with quiet():
        p = np.asarray(transaction_model.conditional_probability_alive(f, r, t), dtype=float)
    return np.clip(p, 0.0, 1.0)


def expected_average_spend(gamma_gamma, population_mean_spend: float, summary: pd.DataFrame) -> np.ndarray:
    """Gamma-Gamma conditional expected spend per purchase day; the population mean for
    customers without repeat purchases. Without a Gamma-Gamma (``None``): the observed mean of
    repeat buyers, else the population mean."""
    f, _, _, m = summary_arrays(summary, need_monetary=True)
    if gamma_gamma is None:
        out = np.where(f > 0, m, population_mean_spend)
    else:
        p, q, _ = gamma_gamma.params_[["p", "q", "v"]].to_numpy(dtype=float)
        w = p * f / (p * f + q - 1)  # individual weight; 0 for customers without repeat purchases
        out = (1 - w) * population_mean_spend + w * np.maximum(m, 0.0)
    return np.maximum(out, 0.0)


def customer_lifetime_value(
    transaction_model,
    spend: np.ndarray,
    summary: pd.DataFrame,
    months=DEFAULT_CLV_MONTHS,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
) -> dict:
    """Discounted CLV for each horizon in ``months`` (dict months -> array): lifetimes'
    ``_customer_lifetime_value`` with ``freq='D'``, one prediction call per month for all rows."""
    months = sorted({int(h) for h in months})
    if not months or months[0] < 1:
        raise ValueError("CLV horizons must be positive whole months")
    horizon = months[-1]
    cum = np.column_stack(
        [np.zeros(len(summary))]
        + [expected_purchases(transaction_model, DAYS_PER_MONTH * i, summary) for i in range(1, horizon + 1)]
    )
    increments = np.maximum(np.diff(cum, axis=1), 0.0)  # never negative, so CLV grows with the horizon
    discount = (1.0 + discount_rate) ** -np.arange(1, horizon + 1)
    running = np.cumsum(increments * discount, axis=1) * spend[:, None]
    return {h: running[:, h - 1] for h in months}


def prediction_frame(
    transaction_model,
    spend: np.ndarray,
    summary: pd.DataFrame,
    purchase_horizons_days=DEFAULT_PURCHASE_HORIZONS_DAYS,
    clv_months=DEFAULT_CLV_MONTHS,
    discount_rate: float = DEFAULT_DISCOUNT_RATE,
    id_column: str = "customer_id",
) -> pd.DataFrame:
    """One row per summary row, in its order: [id], p_alive, expected_purchases_<N>d,
    expected_avg_spend (= ``spend``), clv_<H>m."""
    out = pd.DataFrame(index=range(len(summary)))
    if id_column in summary.columns:
        out[id_column] = summary[id_column].to_numpy()
    out["p_alive"] = probability_alive(transaction_model, summary)
    for d in purchase_horizons_days:
        out[f"expected_purchases_{int(d)}d"] = expected_purchases(transaction_model, d, summary)
    out["expected_avg_spend"] = spend
    for h, v in customer_lifetime_value(transaction_model, spend, summary, clv_months, discount_rate).items():
        out[f"clv_{h}m"] = v
    return out
