"""Large catalogues: every recommender fits on 60,000 products and is evaluated, published
(top-N per affiliate) and turned into stamp missions in customer batches whose
[customers, products] arrays fit the memory budget, with a bounded peak RSS (no dense
products × products matrix, no customers × all-products block beyond the budget)."""

from __future__ import annotations

import datetime as dt
import threading

import numpy as np
import pandas as pd
import psutil
import pytest

torch = pytest.importorskip("torch")

from loyalty_analytics.recommenders import batching, jobs  # noqa: E402
from loyalty_analytics.recommenders.data import build_interaction_data  # noqa: E402
from loyalty_analytics.recommenders.evaluation import evaluate  # noqa: E402
from loyalty_analytics.recommenders.preference_nn import PreferenceNN  # noqa: E402
from loyalty_analytics.recommenders.sequential import SequentialRecommender  # noqa: E402
from loyalty_analytics.recommenders.stamp_mission import stamp_mission  # noqa: E402
from loyalty_analytics.recommenders.topk import recommend_per_affiliate  # noqa: E402

N_CUSTOMERS, N_PRODUCTS = 500, 60_000
BUDGET = 4 * 1024 * 1024  # floats; all 500 customers × 60,000 products would be 30M
CUT = dt.date(2021, 6, 30)
PEAK_RSS_BOUND_MB = 1000  # above the RSS before fitting (measured: ~450); a dense 60,000² float32 matrix is 14,400 MB


def _catalogue():
    """500 customers, 30 baskets each over 60,000 products (Zipf-like popularity, 40 top
    categories, a tenth of the products without a category), one business unit, a region
    for half of the customers."""
    rng = np.random.default_rng(0)
    popularity = 1.0 / np.arange(1, N_PRODUCTS + 1) ** 0.8
    popularity /= popularity.sum()
    n_baskets = 30
    basket_size = 1 + rng.poisson(4, N_CUSTOMERS * n_baskets)
    basket = np.repeat(np.arange(N_CUSTOMERS * n_baskets), basket_size)
    customer = basket // n_baskets
    day = rng.integers(0, 240, N_CUSTOMERS * n_baskets)[basket]
    lines = pd.DataFrame(
        {
            "customer_id": [f"C{c:03d}" for c in customer],
            "product_code": [f"P{j:05d}" for j in rng.choice(N_PRODUCTS, len(basket), p=popularity)],
            "affiliate_code": "ALL",
            "purchased_at": pd.Timestamp("2021-01-01") + pd.to_timedelta(day, unit="D"),
            "session_id": basket.astype(str),
            "quantity": 1,
            "amount": 1.0,
        }
    ).drop_duplicates(["session_id", "product_code"])
    products = pd.DataFrame(
        {
            "product_code": [f"P{j:05d}" for j in range(N_PRODUCTS)],
            "category_1": [None if j % 10 == 9 else f"dept{j % 40}" for j in range(N_PRODUCTS)],
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{c:03d}" for c in range(N_CUSTOMERS)],
            "region": [f"R{c % 7}" if c % 2 else None for c in range(N_CUSTOMERS)],
        }
    )
    return build_interaction_data(lines, customers, products, None, CUT)


class ShapeWatch:
    """A fitted model whose ``score`` calls are recorded as (rows, columns)."""

    def __init__(self, model):
        self.model, self.name, self.calls = model, model.name, []

    def score(self, customer_idx):
        out = self.model.score(customer_idx)
        self.calls.append(out.shape)
        return out


class PeakRSS:
    def __init__(self):
        self.process, self.peak, self.done = psutil.Process(), 0, threading.Event()
        self.start = self.process.memory_info().rss
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self):
        while not self.done.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            self.done.wait(0.02)

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        return (self.peak - self.start) / 2**20


def _models() -> list:
    quick = dict(num_threads=1, verbose=False)
    neural = [
        PreferenceNN(epochs=1, min_total_steps=0, refit_iterations=3, preference_epochs=1, **quick),
        SequentialRecommender(epochs=1, **quick),
    ]
    return [m for m in jobs.evaluation_models(0) if m.name not in {n.name for n in neural}] + neural


def test_every_model_fits_and_scores_a_large_catalogue_within_the_budget(monkeypatch):
    monkeypatch.setattr(batching, "SCORE_BUDGET", BUDGET)
    data, truth = _catalogue()
    assert data.n_products == N_PRODUCTS and N_CUSTOMERS * N_PRODUCTS > 5 * BUDGET
    rss = PeakRSS()
    models = [ShapeWatch(model.fit(data)) for model in _models()]
    metrics = evaluate(models, data, truth)
    published = {m.name: m for m in models}
    recs = recommend_per_affiliate(published["preference_nn"], data, n=10)
    recs_seq = recommend_per_affiliate(published["sequential_gru"], data, n=10)
    mission = stamp_mission(published["preference_nn"], data)
    peak_mb = rss.stop()

    assert set(metrics["model_name"]) == {m.name for m in models} and metrics["value"].notna().any()
    assert len(recs) and len(recs_seq) and len(mission)
    assert not mission["category_major"].isna().any()  # products without a category are never in a mission
    for model in models:
        assert model.calls, model.name
        assert max(rows * columns for rows, columns in model.calls) <= BUDGET, (model.name, model.calls[:3])
    assert peak_mb < PEAK_RSS_BOUND_MB, peak_mb
