"""Repurchase timing (issue 14, "When"): per customer × product (and × major category) bought on
two or more days, P(buy again within 7 / 14 / 30 days), the expected next purchase date and the
days overdue. A pooled renewal model (Weibull intervals, gamma frailty, shrinkage across
customers, items and categories, customer P(alive), pair lapse) against two baselines (seed 004's
gradient-boosted interval regression and the mean-interval rule). docs/timing.md.

Modules: ``histories`` (purchase days → pair histories), ``renewal`` (one pair's likelihood and
predictions), ``pooling`` (the shrunk effects), ``customers`` (customer RFM and P(alive)),
``model`` (the estimator), ``params`` (its stored table), ``outputs`` (the shared output shape),
``baselines``, ``evaluation``, ``jobs`` (what the dbt models call).
"""

from loyalty_analytics.timing.baselines import GBMIntervalModel, MeanIntervalRule
from loyalty_analytics.timing.jobs import ITEM_LEVELS, OUTPUT_COLUMNS, apply_params, evaluate, fit_params
from loyalty_analytics.timing.model import MODEL_NAME, PooledTimingModel
from loyalty_analytics.timing.outputs import DEFAULT_HORIZONS, PREDICTION_COLUMNS

__all__ = [
    "DEFAULT_HORIZONS",
    "ITEM_LEVELS",
    "MODEL_NAME",
    "OUTPUT_COLUMNS",
    "PREDICTION_COLUMNS",
    "GBMIntervalModel",
    "MeanIntervalRule",
    "PooledTimingModel",
    "apply_params",
    "evaluate",
    "fit_params",
]
