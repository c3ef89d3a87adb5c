"""The pooled repurchase-timing model (scikit-learn conventions): hyper-parameters in ``__init__``,
learned attributes ending in ``_`` set by :meth:`PooledTimingModel.fit`, saved and loaded as a
long table with :meth:`~PooledTimingModel.to_params` / :meth:`~PooledTimingModel.from_params`.
The model: :mod:`.renewal` (one pair) and :mod:`.pooling` (shrinkage); docs/timing.md."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from loyalty_analytics.timing import customers, renewal
from loyalty_analytics.timing.histories import (
    PairHistories,
    customer_chunks,
    pair_histories,
    prepare_purchase_days,
)
from loyalty_analytics.timing.outputs import DEFAULT_HORIZONS, prediction_frame
from loyalty_analytics.timing.pooling import (
    LEVELS,
    Effects,
    PairIndex,
    customer_effects,
    fit_effects,
    updated_precisions,
)

MODEL_NAME = "timing_pooled"
SHAPE_SAMPLE = 50_000  # pairs the (at most four) shape parameters are fitted on: more adds time, not accuracy


def chunked_histories(days: pd.DataFrame, as_of, chunk_rows: int):
    """Pair histories chunk by chunk of customers (a customer's pairs stay together)."""
    if len(days) == 0:
        yield pair_histories(days, as_of)
        return
    for chunk in customer_chunks(days["customer_id"].to_numpy(), chunk_rows):
        yield pair_histories(days.iloc[chunk], as_of)


def sample_customers(hist: PairHistories, max_pairs: int, random_state: int) -> PairHistories:
    """All pairs of a random subset of customers holding about ``max_pairs`` pairs (all when fewer)."""
    if len(hist.pairs) <= max_pairs:
        return hist
    customers = hist.pairs["customer_id"].to_numpy()
    unique = np.unique(customers)
    chosen = unique[np.random.RandomState(random_state).random_sample(len(unique)) < max_pairs / len(customers)]
    return hist.take(np.isin(customers, chosen))


def pair_index(pairs: pd.DataFrame) -> tuple[PairIndex, np.ndarray, np.ndarray, np.ndarray]:
    """Integer codes (sorted by value) of the pairs' customers, items and categories; also the
    item and category names and each item's category."""
    cust_codes, customers = pd.factorize(pairs["customer_id"].to_numpy(), sort=True)
    item_codes, items = pd.factorize(pairs["item_id"].to_numpy(), sort=True)
    if "category" in pairs.columns:
        item_category = pairs.groupby("item_id", sort=True)["category"].min().reindex(items).to_numpy().astype(str)
    else:
        item_category = np.full(len(items), "", dtype=object).astype(str)
    category_of_item, categories = pd.factorize(item_category, sort=True)
    index = PairIndex(cust_codes, item_codes, category_of_item[item_codes], len(customers), len(items), len(categories))
    return index, np.asarray(items).astype(str), np.asarray(categories).astype(str), item_category


def _lookup(table: pd.Series, keys: np.ndarray, default) -> np.ndarray:
    """``table[key]`` for each key, ``default`` for a key the table lacks."""
    positions = table.index.get_indexer(pd.Index(keys))
    values = np.asarray(table.to_numpy(), dtype=object)
    found = values[np.maximum(positions, 0)] if len(values) else np.full(len(keys), default, dtype=object)
    return np.where(positions >= 0, found, default)


class PooledTimingModel(BaseEstimator):
    """Weibull renewal intervals with gamma frailty, pooled effects, customer P(alive) and pair
    lapse (:mod:`.renewal`, :mod:`.pooling`).

    Hyper-parameters: ``horizons`` (days), ``prior_strength`` (multiplies the empirical-Bayes
    precisions of the effects), ``customer_effect`` (pool a customer's pairs too), ``lapse``
    (pair-lapse part on/off), ``use_p_alive`` (the customer's BG/NBD P(alive) from the same
    purchase days explains a customer-wide silence), ``window_days`` (the expected next date is the
    median next purchase given one within this many days after the cut), ``n_rounds`` (EM rounds),
    ``max_fit_pairs`` (fit on the pairs of a random subset of customers above this),
    ``chunk_rows`` (purchase-day rows per chunk when predicting), ``random_state``.

    Learned: ``shape_`` (weibull_shape, frailty_shape, lapse_a, lapse_b), ``global_effect_``,
    ``category_effects_`` and ``item_effects_`` (pd.Series, log days), ``item_categories_``,
    ``precisions_`` (per level), ``alive_`` (BG/NBD r, alpha, a, b; empty without P(alive)),
    ``n_pairs_``, ``n_customers_``, ``n_items_``, ``fit_seconds_``.
    """

    def __init__(
        self,
        horizons=DEFAULT_HORIZONS,
        prior_strength: float = 1.0,
        customer_effect: bool = True,
        lapse: bool = True,
        use_p_alive: bool = True,
        window_days: int = 92,
        n_rounds: int = 4,
        max_fit_pairs: int = 2_000_000,
        chunk_rows: int = 2_000_000,
        random_state: int = 0,
    ):
        self.horizons = horizons
        self.prior_strength = prior_strength
        self.customer_effect = customer_effect
        self.lapse = lapse
        self.use_p_alive = use_p_alive
        self.window_days = window_days
        self.n_rounds = n_rounds
        self.max_fit_pairs = max_fit_pairs
        self.chunk_rows = chunk_rows
        self.random_state = random_state

    @property
    def levels(self) -> tuple[str, ...]:
        return LEVELS if self.customer_effect else LEVELS[:2]

    # ------------------------------------------------------------------ fit
    def fit(self, purchase_days: pd.DataFrame, as_of) -> PooledTimingModel:
        """Fit on the purchase days up to ``as_of`` (customer_id, item_id, purchase_date[, category]):
        every pair counts, those bought once too (their silence says something about the rate)."""
        started = time.perf_counter()
        days = prepare_purchase_days(purchase_days, as_of)
        hist = sample_customers(pair_histories(days, as_of), self.max_fit_pairs, self.random_state)
        if not (hist.pairs["n_days"] >= 2).any():
            raise ValueError("no customer × item was bought on two or more days: nothing to fit")
        index, items, categories, item_category = pair_index(hist.pairs)
        summary = customers.customer_summary(days, as_of)
        self.alive_ = customers.fit_alive_model(summary) if self.use_p_alive else {}
        stats = renewal.PairStats.of(hist, self._pair_p_alive(hist.pairs, summary))
        shape, effects = self._fit_em(stats, index)
        self.shape_ = shape
        self.global_effect_ = effects.global_
        self.category_effects_ = pd.Series(effects.category, index=categories, name="log_scale_effect")
        self.item_effects_ = pd.Series(effects.item, index=items, name="log_scale_effect")
        self.item_categories_ = pd.Series(item_category, index=items, name="category")
        self.precisions_ = dict(effects.precision)
        self.n_pairs_ = len(hist.pairs)
        self.n_customers_ = index.n_customers
        self.n_items_ = index.n_items
        self.fit_seconds_ = time.perf_counter() - started
        return self

    def _fit_em(self, stats: renewal.PairStats, index: PairIndex) -> tuple[dict, Effects]:
        """Rounds of: effects (Newton) → shape (c, α, a, b) on a sample → effect precisions."""
        shape = {**renewal.INITIAL_SHAPE, **({} if self.lapse else renewal.NO_LAPSE)}
        start = float(np.log(np.mean(stats.gaps))) if len(stats.gaps) else 0.0
        effects = Effects(start, np.zeros(index.n_categories), np.zeros(index.n_items), np.zeros(index.n_customers))
        precision = dict.fromkeys(LEVELS, 1.0)
        rng = np.random.RandomState(self.random_state)
        sample = np.sort(rng.permutation(len(stats.n))[:SHAPE_SAMPLE])
        sample_stats = stats.take(sample)
        for _ in range(self.n_rounds):
            effects, post = fit_effects(self._grad_hess(stats, shape), index, precision, effects, self.levels, 10)
            shape = renewal.fit_shape(effects.theta(index)[sample], sample_stats, shape, self.lapse)
            precision = updated_precisions(effects, post, self.prior_strength, self.levels)
        effects, _ = fit_effects(self._grad_hess(stats, shape), index, precision, effects, self.levels)
        effects.precision = precision
        return shape, effects

    def _grad_hess(self, stats: renewal.PairStats, shape: dict):
        powers = stats.powers(shape["weibull_shape"])
        return lambda theta: renewal.grad_hess(theta, stats, shape, powers, self.lapse)

    # ------------------------------------------------------------------ predict
    def predict(self, purchase_days: pd.DataFrame, as_of) -> pd.DataFrame:
        """One row per customer × item bought on ≥ 2 days up to ``as_of``, sorted by
        (customer_id, item_id): :data:`.outputs.PREDICTION_COLUMNS`."""
        days = prepare_purchase_days(purchase_days, as_of)
        summary = customers.customer_summary(days, as_of)
        parts = [
            self.predict_histories(hist, as_of, summary) for hist in chunked_histories(days, as_of, self.chunk_rows)
        ]
        return pd.concat(parts, ignore_index=True)

    def _pair_p_alive(self, pairs: pd.DataFrame, summary: pd.DataFrame) -> np.ndarray | None:
        if not self.alive_:
            return None
        alive = customers.probability_alive(self.alive_, summary)
        return customers.pair_values(pairs["customer_id"].to_numpy(), summary, alive)

    def predict_histories(self, hist: PairHistories, as_of, summary: pd.DataFrame) -> pd.DataFrame:
        """Predictions for the pairs of ``hist`` bought on ≥ 2 days (the pairs bought once count
        toward their customer's effect); ``summary``: :func:`.customers.customer_summary` at as_of."""
        stats = renewal.PairStats.of(hist, self._pair_p_alive(hist.pairs, summary))
        theta = self.theta(hist.pairs, stats)
        repeat = np.flatnonzero(hist.pairs["n_days"].to_numpy() >= 2)
        stats, theta = stats.take(repeat), theta[repeat]
        powers = stats.powers(self.shape_["weibull_shape"])
        terms = renewal.pair_terms(theta, stats, self.shape_, powers, self.lapse)
        probabilities = {
            h: terms.active * renewal.probability_within(terms, stats, powers, self.shape_, h) for h in self.horizons
        }
        return prediction_frame(
            hist.pairs.iloc[repeat],
            renewal.typical_interval(terms, stats, powers, self.shape_),
            probabilities,
            as_of,
            renewal.days_to_next_purchase(terms, stats, powers, self.shape_, self.window_days),
        )

    def theta(self, pairs: pd.DataFrame, stats: renewal.PairStats) -> np.ndarray:
        """Each pair's prior log scale: the stored global + category + item effects (0 for an item
        or category not seen in the fit), plus the customer effect estimated from these histories
        with the stored precision."""
        item_ids = pairs["item_id"].to_numpy()
        item = _lookup(self.item_effects_, item_ids, 0.0).astype(float)
        own_category = pairs["category"].to_numpy().astype(str) if "category" in pairs.columns else ""
        category = _lookup(self.item_categories_, item_ids, None)
        category = np.where(pd.isna(category), own_category, category).astype(str)
        cat = _lookup(self.category_effects_, category, 0.0).astype(float)
        base = self.global_effect_ + cat + item
        if not self.customer_effect:
            return base
        codes, uniques = pd.factorize(pairs["customer_id"].to_numpy())
        grad_hess = self._grad_hess(stats, self.shape_)
        customer = customer_effects(grad_hess, base, codes, len(uniques), self.precisions_["customer"])
        return base + customer[codes]

    # ------------------------------------------------------------------ store
    def to_params(self) -> pd.DataFrame:
        from loyalty_analytics.timing.params import params_table

        return params_table(self)

    @classmethod
    def from_params(cls, params: pd.DataFrame) -> PooledTimingModel:
        """The model a :meth:`to_params` table stores (rows in any order), ready to predict."""
        from loyalty_analytics.timing.params import read_params_table

        hyper, learned = read_params_table(params)
        model = cls(**hyper)
        for name, value in learned.items():
            setattr(model, name, value)
        return model
