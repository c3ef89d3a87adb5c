"""The two baselines the pooled model is judged against (docs/timing.md, "Baselines"); both return
:func:`.outputs.prediction_frame` rows for the pairs bought on ≥ 2 days up to the cut.

* :class:`MeanIntervalRule` — next date = last purchase + the pair's own mean interval;
  P(buy within h) = 1 − exp(−h / mean interval) (a Poisson process at the pair's own mean rate;
  it ignores the silence since the last purchase).
* :class:`GBMIntervalModel` — seed 004's interval regression: a gradient-boosted regression
  (``sklearn`` HistGradientBoostingRegressor) of log(next interval) on RFM + T features of the pair
  (as of the interval's start) and of its customer (at the cut, with the BG/NBD P(alive): the
  "+CLV" feature), trained on the intervals completed before the cut. Completed intervals are
  biased short (a long one rarely ends before the cut), so its error distribution is measured the
  way it is used: the same regression fitted W days earlier predicts each pair's next interval
  there, and the purchases of the following W days give a Kaplan–Meier distribution of the log
  ratio ε = log(actual / predicted) (left-truncated at the pair's silence, right-censored when not
  bought). With the next interval X = predicted × exp(ε) and S its survival, P(buy in (t, t+h]) =
  [S(t) − S(t+h)] / S(t) (0 where S(t) = 0), t the silence; the expected interval is the median of X.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from loyalty_analytics.timing import customers
from loyalty_analytics.timing.histories import (
    day_number,
    first_purchase_after,
    pair_histories,
    prepare_purchase_days,
)
from loyalty_analytics.timing.outputs import DEFAULT_HORIZONS, prediction_frame

MEAN_RULE_NAME = "timing_mean_interval"
GBM_NAME = "timing_gbm_interval"
PAIR_FEATURES = ("pair_days", "pair_tenure", "pair_mean_interval", "pair_last_interval")
CUSTOMER_FEATURES = ("frequency", "recency", "T", "days_since_last", "n_items", "p_alive")
ITEM_FEATURES = ("item_log_median_interval", "item_pairs")
FEATURES = (*PAIR_FEATURES, *CUSTOMER_FEATURES, *ITEM_FEATURES)


class MeanIntervalRule:
    """The pair's own mean interval (module doc); nothing to fit."""

    name = MEAN_RULE_NAME

    def __init__(self, horizons=DEFAULT_HORIZONS):
        self.horizons = horizons

    def predict(self, purchase_days: pd.DataFrame, as_of) -> pd.DataFrame:
        days = prepare_purchase_days(purchase_days, as_of)
        pairs = pair_histories(days, as_of).pairs
        pairs = pairs.loc[pairs["n_days"] >= 2].reset_index(drop=True)
        mean = pairs["sum_intervals"].to_numpy(dtype=float) / pairs["n_intervals"].to_numpy(dtype=float)
        probabilities = {h: -np.expm1(-h / mean) for h in self.horizons}
        return prediction_frame(pairs, mean, probabilities, as_of)


def _position_in_pair(days: pd.DataFrame) -> np.ndarray:
    """0, 1, 2, … along each (customer, item) of sorted purchase days."""
    c, i = days["customer_id"].to_numpy(), days["item_id"].to_numpy()
    new = np.ones(len(days), dtype=bool)
    new[1:] = (c[1:] != c[:-1]) | (i[1:] != i[:-1])
    starts = np.flatnonzero(new)
    return np.arange(len(days)) - np.repeat(starts, np.diff(np.append(starts, len(days))))


def interval_examples(days: pd.DataFrame) -> pd.DataFrame:
    """One row per purchase day that is a pair's 2nd or later (features as of that day) with the
    next interval of the pair when it is known (``next_interval``, NaN for the pair's last day)."""
    pos = _position_in_pair(days)
    day = days["day"].to_numpy(dtype=np.int64)
    first = day[np.arange(len(day)) - pos]
    previous = np.r_[day[0] if len(day) else 0, day[:-1]]
    following = np.r_[day[1:], 0]
    has_next = np.r_[pos[1:] > 0, False]
    rows = pos >= 1
    tenure = (day - first).astype(float)
    return pd.DataFrame(
        {
            "customer_id": days["customer_id"].to_numpy()[rows],
            "item_id": days["item_id"].to_numpy()[rows],
            "day": day[rows],
            "pair_days": (pos + 1)[rows].astype(float),
            "pair_tenure": tenure[rows],
            "pair_mean_interval": (tenure / np.maximum(pos, 1))[rows],
            "pair_last_interval": (day - previous).astype(float)[rows],
            "next_interval": np.where(has_next, following - day, np.nan)[rows].astype(float),
        }
    )


def item_features(examples: pd.DataFrame) -> pd.DataFrame:
    """Per item: log of the median completed interval and the number of pairs with one."""
    done = examples.dropna(subset=["next_interval"])
    grouped = done.groupby("item_id", sort=True)
    return pd.DataFrame(
        {
            "item_log_median_interval": np.log(grouped["next_interval"].median()),
            "item_pairs": grouped["customer_id"].nunique().astype(float),
        }
    )


def kaplan_meier(entry: np.ndarray, exit_: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan–Meier survival of left-truncated, right-censored times: each unit is at risk on
    (entry, exit] and ends with an event or not. Returns the event times (sorted) and S just after
    each."""
    times = np.unique(exit_[event])
    deaths = np.bincount(np.searchsorted(times, exit_[event]), minlength=len(times))
    at_risk = np.searchsorted(np.sort(entry), times, side="left") - np.searchsorted(np.sort(exit_), times, side="left")
    factor = 1.0 - deaths / np.maximum(at_risk, 1)
    return times, np.cumprod(factor)


def km_survival(times: np.ndarray, survival: np.ndarray, z: np.ndarray) -> np.ndarray:
    """S(z) of a Kaplan–Meier curve (1 before the first event time, flat after the last)."""
    position = np.searchsorted(times, z, side="right")
    return np.where(position > 0, survival[np.maximum(position - 1, 0)], 1.0)


class GBMIntervalModel:
    """Seed 004's interval regression with residual-distribution probabilities (module doc)."""

    name = GBM_NAME

    def __init__(self, horizons=DEFAULT_HORIZONS, max_train_rows: int = 200_000, random_state: int = 0):
        self.horizons = horizons
        self.max_train_rows = max_train_rows
        self.random_state = random_state

    def fit(self, purchase_days: pd.DataFrame, as_of, inner_cut) -> GBMIntervalModel:
        """Regression on the intervals completed up to ``as_of``; residual distribution from a
        second regression fitted up to ``inner_cut`` and the purchases in (inner_cut, as_of]."""
        state = _regression(purchase_days, inner_cut, self.max_train_rows, self.random_state)
        outcome = first_purchase_after(prepare_purchase_days(purchase_days, as_of, inner_cut), inner_cut, as_of)
        state = state.merge(outcome, on=["customer_id", "item_id"], how="left")
        last, predicted = state["last_day"].to_numpy(dtype=float), state["predicted"].to_numpy()
        bought = state["next_day"].notna().to_numpy()
        end = np.where(bought, state["next_day"].to_numpy(dtype=float), float(day_number(as_of)))
        with np.errstate(divide="ignore"):
            entry = np.log(float(day_number(inner_cut)) - last) - np.log(predicted)
        self.residual_times_, self.residual_survival_ = kaplan_meier(
            entry, np.log(end - last) - np.log(predicted), bought
        )
        self.state_ = _regression(purchase_days, as_of, self.max_train_rows, self.random_state)
        self.as_of_ = as_of
        return self

    def predict(self) -> pd.DataFrame:
        """Predictions at the ``as_of`` of :meth:`fit` for its pairs bought on ≥ 2 days."""
        state = self.state_
        predicted = state["predicted"].to_numpy()
        silence = float(day_number(self.as_of_)) - state["last_day"].to_numpy(dtype=float)
        probabilities = {h: self._probability_within(predicted, silence, h) for h in self.horizons}
        median = np.interp(0.5, self.residual_survival_[::-1], self.residual_times_[::-1])
        return prediction_frame(state, predicted * np.exp(median), probabilities, self.as_of_)

    def _survival(self, predicted: np.ndarray, x: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):
            z = np.log(np.maximum(x, 0.0)) - np.log(predicted)
        return km_survival(self.residual_times_, self.residual_survival_, z)

    def _probability_within(self, predicted: np.ndarray, silence: np.ndarray, horizon: float) -> np.ndarray:
        now = self._survival(predicted, silence)
        later = self._survival(predicted, silence + horizon)
        return np.divide(now - later, now, out=np.zeros_like(now), where=now > 0)


def features(days: pd.DataFrame, as_of) -> pd.DataFrame:
    """:func:`interval_examples` of prepared purchase days with the customer (at ``as_of``) and
    item features."""
    summary = customers.customer_summary(days, as_of)
    summary["p_alive"] = customers.probability_alive(customers.fit_alive_model(summary), summary)
    examples = interval_examples(days)
    positions = pd.Index(summary["customer_id"].to_numpy()).get_indexer(examples["customer_id"].to_numpy())
    for name in CUSTOMER_FEATURES:
        examples[name] = summary[name].to_numpy(dtype=float)[positions]
    items = item_features(examples).reindex(examples["item_id"].to_numpy())
    for name in ITEM_FEATURES:
        examples[name] = items[name].to_numpy(dtype=float)  # NaN for an item without an interval
    return examples


def _regression(purchase_days: pd.DataFrame, as_of, max_train_rows: int, random_state: int) -> pd.DataFrame:
    """The gradient-boosted regression of log(next interval) fitted on the intervals completed up
    to ``as_of``; returns every pair bought on ≥ 2 days (pair history rows) with its predicted next
    interval (days) from its last purchase day."""
    days = prepare_purchase_days(purchase_days, as_of)
    frame = features(days, as_of)
    done = frame["next_interval"].notna().to_numpy()
    train = frame.loc[done]
    if len(train) < 10:
        raise ValueError("fewer than 10 completed intervals after a pair's second purchase day: nothing to fit")
    if len(train) > max_train_rows:
        rng = np.random.RandomState(random_state)
        train = train.iloc[np.sort(rng.choice(len(train), max_train_rows, replace=False))]
    regressor = HistGradientBoostingRegressor(
        max_iter=200, learning_rate=0.1, early_stopping=True, random_state=random_state
    )
    # one OpenMP thread: dbt runs two models at once and oversubscribed OpenMP threads spin (on a
    # busy 2-core machine the 3,000-customer baseline took 12 s with two threads, 8 s with one)
    with threadpool_limits(1):
        regressor.fit(train[list(FEATURES)].to_numpy(dtype=float), np.log(train["next_interval"].to_numpy(dtype=float)))
    pairs = pair_histories(days, as_of).pairs
    pairs = pairs.loc[pairs["n_days"] >= 2].reset_index(drop=True)
    current = frame.loc[~done]  # each repeat pair's last purchase day, in the pairs' (sorted) order
    pairs["predicted"] = np.exp(regressor.predict(current[list(FEATURES)].to_numpy(dtype=float)))
    return pairs
