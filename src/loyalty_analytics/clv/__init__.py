"""Customer lifetime value: BG/NBD or Pareto/NBD + Gamma-Gamma (``lifetimes``) on an RFM
summary with daily periods. Fit once (:class:`CLVModel`), store the parameters as a table
(:meth:`CLVModel.to_params`), apply them anywhere (:meth:`CLVModel.from_params`), evaluate
(:func:`evaluate_clv`). Choices, formulas and the lifetimes notes: docs/clv.md.

Modules: ``summary`` (input checks, row order), ``fitters`` (lifetimes wrappers), ``fit``,
``predict``, ``model``, ``params`` (the stored table), ``evaluation``.
"""

from loyalty_analytics.clv.evaluation import (
    MODEL_NAMES,
    calibration_summary,
    evaluate_clv,
    gamma_gamma_independence,
    holdout_metrics,
    naive_holdout_prediction,
    p_alive_auc,
    regression_metrics,
)
from loyalty_analytics.clv.fit import (
    TRANSACTION_MODELS,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_pareto_nbd,
    fit_spend_model,
    fit_transaction_models,
    gamma_gamma_log_likelihood,
    log_likelihood,
)
from loyalty_analytics.clv.model import CLVModel
from loyalty_analytics.clv.predict import (
    DAYS_PER_MONTH,
    DEFAULT_CLV_MONTHS,
    DEFAULT_DISCOUNT_RATE,
    DEFAULT_PURCHASE_HORIZONS_DAYS,
    customer_lifetime_value,
    expected_average_spend,
    expected_purchases,
    probability_alive,
)
from loyalty_analytics.clv.summary import SUMMARY_COLUMNS, by_customer, canonical_order

__all__ = [
    "DAYS_PER_MONTH",
    "DEFAULT_CLV_MONTHS",
    "DEFAULT_DISCOUNT_RATE",
    "DEFAULT_PURCHASE_HORIZONS_DAYS",
    "MODEL_NAMES",
    "SUMMARY_COLUMNS",
    "TRANSACTION_MODELS",
    "CLVModel",
    "by_customer",
    "calibration_summary",
    "canonical_order",
    "customer_lifetime_value",
    "evaluate_clv",
    "expected_average_spend",
    "expected_purchases",
    "fit_bgnbd",
    "fit_gamma_gamma",
    "fit_pareto_nbd",
    "fit_spend_model",
    "fit_transaction_models",
    "gamma_gamma_independence",
    "gamma_gamma_log_likelihood",
    "holdout_metrics",
    "log_likelihood",
    "naive_holdout_prediction",
    "p_alive_auc",
    "probability_alive",
    "regression_metrics",
]
