"""Baseline recommenders: unit behaviour and ranking quality on the planted synthetic data."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from recsys_fixtures import TrueScoreRecommender, interaction_data_from_indices, make_synthetic_data

from loyalty_analytics.recommenders.baselines import (
    AffiliatePopularityRecommender,
    ALSRecommender,
    CooccurrenceRecommender,
    PersonalFrequencyRecommender,
    PopularityRecommender,
    cooccurrence_rules,
    default_baselines,
    popularity_vector,
)
from loyalty_analytics.recommenders.data import Recommender
from loyalty_analytics.recommenders.evaluation import evaluate
from loyalty_analytics.recommenders.tifu_knn import TIFUKNNRecommender, tifu_user_vectors


def _tiny(pairs, n_customers, n_products, affiliates=None):
    """InteractionData from (customer, product[, affiliate]) history lines."""
    c = np.array([p[0] for p in pairs], dtype=np.int32)
    j = np.array([p[1] for p in pairs], dtype=np.int32)
    a = np.array([p[2] if len(p) > 2 else 0 for p in pairs], dtype=np.int16)
    n_aff = int(a.max()) + 1 if affiliates is None else affiliates
    purchased_at = pd.Timestamp("2021-03-01") + pd.to_timedelta(np.arange(len(c)), unit="D")
    return interaction_data_from_indices(
        c,
        j,
        a,
        purchased_at,
        n_customers=n_customers,
        n_products=n_products,
        n_affiliates=n_aff,
        cut_date=dt.date(2021, 6, 30),
    )


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
    assert names == ["popularity", "popularity_affiliate", "personal_frequency", "als", "cooccurrence", "tifu_knn"]


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


def test_cooccurrence_keeps_the_strongest_rules_per_product():
    """max_neighbors keeps the k strongest rules of each source product (ties: lower product
    first); the kept rules are exactly the unpruned ones."""
    pairs = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 0), (2, 2), (3, 0), (3, 3), (4, 0), (4, 1)]
    x = _tiny(pairs, 5, 4).bought_matrix()
    full = cooccurrence_rules(x, "confidence", 1, None).toarray()
    # from P0 (5 buyers): P1 3/5, P2 2/5, P3 1/5
    np.testing.assert_allclose(full[0], [0, 3 / 5, 2 / 5, 1 / 5], rtol=1e-6)
    top1 = cooccurrence_rules(x, "confidence", 1, 1).toarray()
    np.testing.assert_array_equal(top1[0], [0, full[0, 1], 0, 0])
    # from P1 (3 buyers): P0 3/3 — and from P3: P0 1/1
    np.testing.assert_array_equal(top1[1], [full[1, 0], 0, 0, 0])
    # tiny blocks (budget of one product per block) give the same rules
    blocky = cooccurrence_rules(x, "confidence", 1, 1, budget=1).toarray()
    np.testing.assert_array_equal(blocky, top1)
    assert (np.count_nonzero(cooccurrence_rules(x, "lift", 1, 2).toarray(), axis=1) <= 2).all()


def _baskets(baskets: dict[int, list[set[int]]], n_customers: int, n_products: int):
    """InteractionData whose sessions are the given baskets (customer -> baskets, oldest first)."""
    rows = [(c, j, b) for c, bs in baskets.items() for b, basket in enumerate(bs) for j in sorted(basket)]
    c = np.array([r[0] for r in rows], dtype=np.int32)
    j = np.array([r[1] for r in rows], dtype=np.int32)
    day = np.array([r[2] for r in rows])
    data = interaction_data_from_indices(
        c,
        j,
        np.zeros(len(rows), np.int16),
        pd.Timestamp("2021-03-01") + pd.to_timedelta(day, unit="D"),
        n_customers=n_customers,
        n_products=n_products,
        n_affiliates=1,
        cut_date=dt.date(2021, 6, 30),
    )
    data.lines["session_id"] = c.astype(np.int64) * 1000 + day  # one session per basket
    return data


def test_tifu_user_vectors_follow_the_paper_by_hand():
    """Groups of m = 2 baskets from the most recent backwards (the oldest may be shorter),
    r_b = r_g = 1/2: g_i = (1/|G_i|) Σ_j r_b^(|G_i|-j) b_ij,  u = (1/k) Σ_i r_g^(k-i) g_i."""
    data = _baskets(
        {
            # C0, 7 baskets -> G1 = {b1}, G2 = {b2, b3}, G3 = {b4, b5}, G4 = {b6, b7}
            0: [{0}, {1}, {0, 2}, {2}, {0}, {1}, {0, 1}],
            # C1, 3 baskets -> G1 = {b1}, G2 = {b2, b3}
            1: [{3}, {3}, {4}],
            # C2, 1 basket -> u = b1
            2: [{0, 4}],
        },
        n_customers=4,
        n_products=5,
    )
    u = tifu_user_vectors(data, within_decay=0.5, group_decay=0.5, group_size=2).toarray()
    # C0: g4 = ½(½ b6 + b7) = {P0: ½, P1: ¾}; g3 = ½(½ b4 + b5) = {P0: ½, P2: ¼};
    #     g2 = ½(½ b2 + b3) = {P0: ½, P1: ¼, P2: ½}; g1 = b1 = {P0: 1}
    #     u = ¼ (g4 + ½ g3 + ¼ g2 + ⅛ g1)
    c0 = 0.25 * (
        np.array([0.5, 0.75, 0, 0, 0])
        + 0.5 * np.array([0.5, 0, 0.25, 0, 0])
        + 0.25 * np.array([0.5, 0.25, 0.5, 0, 0])
        + 0.125 * np.array([1.0, 0, 0, 0, 0])
    )
    np.testing.assert_array_equal(c0, [1 / 4, 13 / 64, 1 / 16, 0, 0])
    # C1: g2 = ½(½ b2 + b3) = {P3: ¼, P4: ½}; g1 = {P3: 1}; u = ½ (g2 + ½ g1)
    c1 = 0.5 * (np.array([0, 0, 0, 0.25, 0.5]) + 0.5 * np.array([0, 0, 0, 1.0, 0]))
    expected = np.stack([c0, c1, [1.0, 0, 0, 0, 1.0], np.zeros(5)]).astype(np.float32)
    np.testing.assert_array_equal(u, expected)

    model = TIFUKNNRecommender(n_neighbors=1, within_decay=0.5, group_decay=0.5, group_size=2, alpha=0.5).fit(data)
    # cosine: C0's nearest other customer is C2 (shares P0), C1's is C2 (shares P4), C2's is C0
    assert model.neighbors_[:3, 0].tolist() == [2, 2, 0] and model.neighbors_[3, 0] == -1
    np.testing.assert_array_equal(
        model.predict_vectors(np.array([0])).toarray()[0], (0.5 * expected[0] + 0.5 * expected[2]).astype(np.float32)
    )
    s = model.score(np.array([0, 3]))
    # products outside both vectors rank below the others, in popularity order; no history: popularity
    assert s[0, 3] < 0 < s[0, 4] and s[0, 0] > s[0, 1]
    np.testing.assert_array_equal(np.argsort(-s[1], kind="stable"), np.argsort(-popularity_vector(data), kind="stable"))


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
    print(
        "\n"
        + res[(res.k == 10) | res.k.isna()]
        .pivot_table(index="model_name", columns=["split", "metric"], values="value")
        .round(3)
        .to_string()
    )
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
    for m in ["popularity", "popularity_affiliate", "personal_frequency", "als", "cooccurrence", "tifu_knn"]:
        for split in ["all_items", "new_items"]:
            assert _v(results, "true_scores", "ndcg", 10, split) > _v(results, m, "ndcg", 10, split), (m, split)


def test_personal_frequency_beats_popularity_on_all_items(results):
    for metric, k in [("hit_rate", 10), ("ndcg", 10), ("recall", 10), ("auc", None)]:
        assert _v(results, "personal_frequency", metric, k, "all_items") > _v(
            results, "popularity", metric, k, "all_items"
        )
    # on new items it degenerates to popularity
    for metric, k in [("ndcg", 10), ("auc", None)]:
        assert _v(results, "personal_frequency", metric, k, "new_items") == pytest.approx(
            _v(results, "popularity", metric, k, "new_items")
        )


def test_als_beats_popularity_on_new_items(results):
    for metric, k in [("hit_rate", 10), ("ndcg", 10), ("recall", 10), ("auc", None)]:
        assert _v(results, "als", metric, k, "new_items") > _v(results, "popularity", metric, k, "new_items"), metric


def test_tifu_knn_beats_popularity(results):
    for split in ["all_items", "new_items"]:
        for metric, k in [("ndcg", 10), ("recall", 10), ("auc", None)]:
            assert _v(results, "tifu_knn", metric, k, split) > _v(results, "popularity", metric, k, split), (
                split,
                metric,
            )


def test_cooccurrence_and_affiliate_popularity_beat_popularity_on_new_items(results):
    for m in ["cooccurrence", "popularity_affiliate"]:
        for metric, k in [("ndcg", 10), ("auc", None)]:
            new, pop = _v(results, m, metric, k, "new_items"), _v(results, "popularity", metric, k, "new_items")
            assert new > pop, (m, metric)


def test_the_dashboard_colours_every_baseline_as_one():
    """dashboard/views/model_quality.py (a Streamlit page script, so read, not imported) lists
    the baselines it draws grey: exactly the names default_baselines fits."""
    page = Path(__file__).resolve().parents[2] / "dashboard" / "views" / "model_quality.py"
    (listed,) = [
        ast.literal_eval(node.value)
        for node in ast.parse(page.read_text()).body
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["BASELINES"]
    ]
    assert listed == {model.name for model in default_baselines(0)}
