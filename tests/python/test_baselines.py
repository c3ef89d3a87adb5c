"""Baseline recommenders: unit behaviour and ranking quality on the planted synthetic data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from loyalty_analytics.recommenders.baselines import (
    AffiliatePopularityRecommender,
    ALSRecommender,
    CooccurrenceRecommender,
    PersonalFrequencyRecommender,
    PopularityRecommender,
    default_baselines,
    popularity_vector,
)
from loyalty_analytics.recommenders.data import Recommender
from loyalty_analytics.recommenders.evaluation import evaluate
from recsys_fixtures import TrueScoreRecommender, interaction_data_from_indices, make_synthetic_data


def _tiny(pairs, n_customers, n_products, affiliates=None):
    """InteractionData from (customer, product[, affiliate]) history lines."""
    c = np.array([p[0] for p in pairs], dtype=np.int32)
    j = np.array([p[1] for p in pairs], dtype=np.int32)
    a = np.array([p[2] if len(p) > 2 else 0 for p in pairs], dtype=np.int16)
    n_aff = int(a.max()) + 1 if affiliates is None else affiliates
    purchased_at = pd.Timestamp("2021-03-01") + pd.to_timedelta(np.arange(len(c)), unit="D")
    return interaction_data_from_indices(c, j, a, purchased_at, n_customers=n_customers, n_products=n_products,
                                         n_affiliates=n_aff, cut_date=dt.date(2021, 6, 30))


# customers 0..3, products 0..4
PAIRS = [(0, 0), (0, 0), (0, 1), (1, 0), (1, 2), (2, 0), (2, 1), (2, 3), (3, 3)]


def test_protocol_and_shapes():
    data = _tiny(PAIRS, 5, 5)
    for m in default_baselines():
        assert isinstance(m, Recommender)
        assert m.fit(data) is m
        s = m.score(np.array([4, 0, 2]))
        assert s.dtype == np.float32 and s.shape == (3, 5), m.name
        assert np.isfinite(s).all(), m.name
    names = [m.name for m in default_baselines()]
    assert names == ["popularity", "popularity_affiliate", "personal_frequency", "als", "cooccurrence"]


def test_popularity_order():
    data = _tiny(PAIRS, 4, 5)
    s = PopularityRecommender().fit(data).score(np.arange(4))
    assert (s == s[0]).all()
    # buyers: P0 3, P1 2, P3 2 (3 lines vs 2? P1: lines 2, P3: lines 2), P2 1, P4 0
    assert np.argsort(-s[0], kind="stable").tolist()[:1] == [0]
    assert s[0, 2] > s[0, 4] and s[0, 1] > s[0, 2] and s[0, 3] > s[0, 2]
    assert np.all(popularity_vector(data) < 1)


def test_personal_frequency_ranks_own_items_first():
    data = _tiny(PAIRS, 4, 5)
    m = PersonalFrequencyRecommender().fit(data)
    s = m.score(np.array([0]))[0]
    order = np.argsort(-s, kind="stable").tolist()
    # own counts P0 2, P1 1; then the rest by popularity (P3 > P2 > P4)
    assert order == [0, 1, 3, 2, 4]
    dec = PersonalFrequencyRecommender(half_life_days=30).fit(data).score(np.array([0]))[0]
    assert dec[0] > dec[1] > dec[3]


def test_affiliate_popularity_uses_customer_mix():
    # affiliate 0 sells P0 (popular), affiliate 1 sells P1; customer 2 shops only at A02
    pairs = [(0, 0, 0), (1, 0, 0), (3, 0, 0), (2, 1, 1), (3, 1, 1)]
    data = _tiny(pairs, 4, 2)
    s = AffiliatePopularityRecommender().fit(data).score(np.array([0, 2]))
    assert s[0, 0] > s[0, 1]
    assert s[1, 1] > s[1, 0]


def test_cooccurrence_rules_by_hand():
    # baskets: C0 {0,1}, C1 {0,2}, C2 {0,1,3}, C3 {3}, C4 {1, 0}
    pairs = [(0, 0), (0, 1), (1, 0), (1, 2), (2, 0), (2, 1), (2, 3), (3, 3), (4, 1), (4, 0)]
    data = _tiny(pairs, 5, 4)
    conf = CooccurrenceRecommender(measure="confidence", min_cooccurrence=1).fit(data)
    # conf(0->1) = C01 / C00 = 3/4; conf(0->2) = 1/4; conf(0->3) = 1/4; conf(3->0) = 1/2
    assert conf.rules_[0, 1] == pytest.approx(0.75)
    assert conf.rules_[0, 2] == pytest.approx(0.25)
    assert conf.rules_[3, 0] == pytest.approx(0.5)
    assert conf.rules_[0, 0] == 0.0
    # C3 bought only P3: score(j) = conf(3->j) (+ tiny popularity tie-break)
    s = conf.score(np.array([3]))[0]
    assert s[0] == pytest.approx(0.5, abs=1e-5) and s[1] == pytest.approx(0.5, abs=1e-5)
    assert s[2] == pytest.approx(0.0, abs=1e-5)
    lift = CooccurrenceRecommender(measure="lift", min_cooccurrence=1).fit(data)
    # lift(0->1) = N * C01 / (C00 * C11) = 5 * 3 / (4 * 3)
    assert lift.rules_[0, 1] == pytest.approx(5 * 3 / 12)
    # min_cooccurrence drops rare pairs
    strict = CooccurrenceRecommender(measure="confidence", min_cooccurrence=2).fit(data)
    assert strict.rules_[0, 2] == 0.0 and strict.rules_[0, 1] == pytest.approx(0.75)


def test_als_deterministic_and_cold_start():
    data = _tiny(PAIRS * 3, 6, 5)
    a = ALSRecommender(factors=4, iterations=5, random_state=1).fit(data).score(np.arange(6))
    b = ALSRecommender(factors=4, iterations=5, random_state=1).fit(data).score(np.arange(6))
    np.testing.assert_array_equal(a, b)
    c = ALSRecommender(factors=4, iterations=5, random_state=2).fit(data).score(np.arange(6))
    assert not np.array_equal(a[:4], c[:4])
    # customers 4, 5 have no history: popularity
    pop = PopularityRecommender().fit(data).score(np.array([4]))[0]
    np.testing.assert_allclose(a[4], pop)
    np.testing.assert_allclose(a[5], pop)


# ---------------------------------------------------------------- planted structure


@pytest.fixture(scope="module")
def results():
    data, truth, true_scores = make_synthetic_data()
    models = [TrueScoreRecommender(true_scores)] + [m.fit(data) for m in default_baselines()]
    res = evaluate(models, data, truth, ks=(5, 10, 20))
    print("\n" + res[(res.k == 10) | res.k.isna()].pivot_table(
        index="model_name", columns=["split", "metric"], values="value").round(3).to_string())
    return res


def _v(res, model, metric, k, split):
    sel = res[(res.model_name == model) & (res.metric == metric) & (res.split == split)]
    sel = sel[sel.k.isna()] if k is None else sel[sel.k == k]
    return float(sel.value.iloc[0])


@pytest.mark.parametrize("split", ["all_items", "new_items"])
def test_true_scores_beat_popularity(results, split):
    for metric, k in [("hit_rate", 10), ("ndcg", 10), ("recall", 10), ("auc", None)]:
        assert _v(results, "true_scores", metric, k, split) > _v(results, "popularity", metric, k, split) + 0.05


def test_true_scores_beat_every_baseline(results):
    for m in ["popularity", "popularity_affiliate", "personal_frequency", "als", "cooccurrence"]:
        for split in ["all_items", "new_items"]:
            assert _v(results, "true_scores", "ndcg", 10, split) > _v(results, m, "ndcg", 10, split), (m, split)


def test_personal_frequency_beats_popularity_on_all_items(results):
    for metric, k in [("hit_rate", 10), ("ndcg", 10), ("recall", 10), ("auc", None)]:
        assert _v(results, "personal_frequency", metric, k, "all_items") > _v(results, "popularity", metric, k, "all_items")
    # on new items it degenerates to popularity
    for metric, k in [("ndcg", 10), ("auc", None)]:
        assert _v(results, "personal_frequency", metric, k, "new_items") == pytest.approx(
            _v(results, "popularity", metric, k, "new_items"))


def test_als_beats_popularity_on_new_items(results):
    for metric, k in [("hit_rate", 10), ("ndcg", 10), ("recall", 10), ("auc", None)]:
        assert _v(results, "als", metric, k, "new_items") > _v(results, "popularity", metric, k, "new_items"), metric


def test_cooccurrence_and_affiliate_popularity_beat_popularity_on_new_items(results):
    for m in ["cooccurrence", "popularity_affiliate"]:
        for metric, k in [("ndcg", 10), ("auc", None)]:
            assert _v(results, m, metric, k, "new_items") > _v(results, "popularity", metric, k, "new_items"), (m, metric)
