"""CLV model (scikit-learn conventions): hyper-parameters in ``__init__``, learned attributes
ending in ``_`` set by :meth:`CLVModel.fit`, saved and loaded as a warehouse table with
:meth:`CLVModel.to_params` / :meth:`CLVModel.from_params`."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from loyalty_analytics.clv.fit import fit_spend_model, fit_transaction_models, gamma_gamma_log_likelihood
from loyalty_analytics.clv.params import params_table, read_params_table
from loyalty_analytics.clv.predict import (
    DEFAULT_CLV_MONTHS,
    DEFAULT_DISCOUNT_RATE,
    DEFAULT_PURCHASE_HORIZONS_DAYS,
    expected_average_spend,
    prediction_frame,
    probability_alive,
)


class CLVModel(BaseEstimator):
    """BG/NBD or Pareto/NBD (``transaction_model``: 'bgnbd', 'pareto_nbd' or 'auto' = the
    higher log-likelihood) + Gamma-Gamma, fitted on an RFM summary (daily periods).

    Learned: ``selected_``, ``transaction_models_`` (name -> fitted lifetimes model),
    ``gamma_gamma_`` (None when the empirical mean spend is used), ``population_mean_spend_``,
    ``log_likelihoods_``, ``fit_seconds_``, ``n_customers_`` (dicts by model name).
    lifetimes draws no random numbers here (fixed starts), so there is no ``random_state``.
    """

    def __init__(
        self, transaction_model: str = "auto", penalizer: float = 0.0, discount_rate: float = DEFAULT_DISCOUNT_RATE
    ):
        self.transaction_model = transaction_model
        self.penalizer = penalizer
        self.discount_rate = discount_rate

    def fit(self, summary: pd.DataFrame) -> CLVModel:
        selected, models, lls, secs = fit_transaction_models(summary, self.transaction_model, self.penalizer)
        gamma_gamma, mean_spend, gg_seconds, repeat_buyers = fit_spend_model(summary, self.penalizer)
        self.selected_ = selected
        self.transaction_models_ = models
        self.gamma_gamma_ = gamma_gamma
        self.population_mean_spend_ = mean_spend
        self.log_likelihoods_ = dict(lls)
        if gamma_gamma is not None:
            self.log_likelihoods_["gamma_gamma"] = gamma_gamma_log_likelihood(gamma_gamma)
        self.fit_seconds_ = {**secs, "gamma_gamma": gg_seconds}
        self.n_customers_ = {**{name: len(summary) for name in models}, "gamma_gamma": repeat_buyers}
        return self

    @property
    def model_(self):
        """The selected fitted transaction model."""
        return self.transaction_models_[self.selected_]

    @property
    def population_mean_source_(self) -> str:
        return "gamma_gamma" if self.gamma_gamma_ is not None else "empirical_mean_of_repeat_buyers"

    def probability_alive(self, summary: pd.DataFrame) -> np.ndarray:
        return probability_alive(self.model_, summary)

    def expected_average_spend(self, summary: pd.DataFrame) -> np.ndarray:
        return expected_average_spend(self.gamma_gamma_, self.population_mean_spend_, summary)

    def predict(
        self,
        summary: pd.DataFrame,
        purchase_horizons_days=DEFAULT_PURCHASE_HORIZONS_DAYS,
        clv_months=DEFAULT_CLV_MONTHS,
        id_column: str = "customer_id",
    ) -> pd.DataFrame:
        """One row per customer, in the input order: p_alive, expected_purchases_<N>d,
        expected_avg_spend, clv_<H>m, transaction_model."""
        out = prediction_frame(
            self.model_,
            self.expected_average_spend(summary),
            summary,
            purchase_horizons_days,
            clv_months,
            self.discount_rate,
            id_column,
        )
        out["transaction_model"] = self.selected_
        return out

    def to_params(self) -> pd.DataFrame:
        return params_table(self)

    @classmethod
    def from_params(cls, params: pd.DataFrame) -> CLVModel:
        """The model a :meth:`to_params` table stores, ready to predict (no refitting)."""
        hyper, learned = read_params_table(params)
        model = cls(**hyper)
        for name, value in learned.items():
            setattr(model, name, value)
        return model
