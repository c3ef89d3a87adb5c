"""Evaluation harness, interaction data, top-K per affiliate and the oracle wrapper."""

from __future__ import annotations

import datetime as dt
import math
import time

import numpy as np
import pandas as pd
import pytest
from recsys_fixtures import interaction_data_from_indices, make_synthetic_data

from loyalty_analytics.recommenders.baselines import PersonalFrequencyRecommender, PopularityRecommender
from loyalty_analytics.recommenders.data import InteractionData, Recommender, build_interaction_data
from loyalty_analytics.recommenders.evaluation import evaluate, split_customers
from loyalty_analytics.recommenders.oracle import OracleRecommender
from loyalty_analytics.recommenders.topk import recommend_per_affiliate, stable_topk

CUT = dt.date(2021, 6, 30)


class FixedScores:
    def __init__(self, scores, name="fixed"):
        self.scores = np.asarray(scores, dtype=np.float32)
        self.name = name

    def fit(self, data):
        return self

    def score(self, customer_idx):
        return self.scores[np.asarray(customer_idx)]


def _line(c, p, day, aff="A01", sess=None, hour=10):
    ts = pd.Timestamp(day) + pd.Timedelta(hours=hour)
    return {
        "customer_id": f"C{c}",
        "product_code": f"P{p}",
        "affiliate_code": aff,
        "purchased_at": ts,
        "session_id": sess or f"s{c}_{day}_{aff}",
        "quantity": 1,
        "amount": 100.0,
    }


def tiny_dataset():
    """6 customers × 6 products; see test_metrics_hand_computed for the expected values.

    C0: history P0 on 4 days, truth {P0, P3}         -> all_items, new_items (P3)
    C1: history P1, P2 on 5 days, truth {P4}          -> all_items, new_items
    C2: history P5 on 1 day, truth {P5} (repeat only) -> all_items only
    C3: history P0 on 2 days, truth {P1, P2}          -> all_items, new_items, sparse
    C4: no history, truth {P0}                        -> nowhere
    C5: history, no truth                             -> nowhere
    """
    rows = []
    for d in ["2021-01-05", "2021-02-05", "2021-03-05", "2021-04-05"]:
        rows.append(_line(0, 0, d))
    for i, d in enumerate(["2021-01-06", "2021-02-06", "2021-03-06", "2021-04-06", "2021-06-30"]):
        rows.append(_line(1, 1 + (i % 2), d, aff="A02"))
    rows.append(_line(2, 5, "2021-05-01"))
    rows += [_line(3, 0, "2021-05-01"), _line(3, 0, "2021-06-01")]
    rows.append(_line(5, 3, "2021-05-01"))
    # after the cut
    rows += [_line(0, 0, "2021-07-02"), _line(0, 3, "2021-07-03"), _line(1, 4, "2021-07-01", aff="A02")]
    rows += [_line(2, 5, "2021-07-10"), _line(3, 1, "2021-07-11"), _line(3, 2, "2021-08-01"), _line(4, 0, "2021-07-05")]
    lines = pd.DataFrame(rows)
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(6)],
            "gender": ["female", "male", "female", None, "male", "female"],
            "age_band": ["20대", "30대", "40대", "50대", None, "60대"],
            "region_code": ["R1", "R2", None, "R1", "R3", "R2"],
        }
    )
    products = pd.DataFrame(
        {
            "product_code": [f"P{j}" for j in range(6)],
            "product_name": [f"n{j}" for j in range(6)],
            "category_major": ["M1", "M1", "M2", "M2", "M3", None],
            "category_middle": ["a", "b", "c", "d", "e", "f"],
        }
    )
    return build_interaction_data(lines, customers, products, None, CUT, affiliate_codes=["A01", "A02"])


TINY_SCORES = np.array(
    [
        [0.9, 0.1, 0.8, 0.7, 0.2, 0.0],  # C0
        [0.5, 0.5, 0.5, 0.5, 0.5, 0.1],  # C1: ties, broken by product index
        [0.0, 0.0, 0.0, 0.0, 0.0, 1.0],  # C2
        [0.3, 0.2, 0.1, 0.4, 0.0, 0.5],  # C3
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],  # C4
        [0.0, 0.0, 0.0, 1.0, 0.0, 0.0],  # C5
    ]
)


def _val(res, metric, k, split):
    sel = res[(res.metric == metric) & (res.split == split)]
    sel = sel[sel.k.isna()] if k is None else sel[sel.k == k]
    assert len(sel) == 1
    return float(sel.value.iloc[0]), int(sel.n_customers.iloc[0])


def test_build_interaction_data_tiny():
    data, truth = tiny_dataset()
    assert list(data.customer_ids) == [f"C{i}" for i in range(6)]
    assert list(data.product_codes) == [f"P{j}" for j in range(6)]
    assert list(data.affiliate_codes) == ["A01", "A02"]
    # the cut day itself is history; everything after is truth
    assert data.lines.purchased_at.max() == pd.Timestamp("2021-06-30 10:00")
    assert len(data.lines) == 13
    assert {(int(c), int(p)) for c, p in truth.itertuples(index=False)} == {
        (0, 0),
        (0, 3),
        (1, 4),
        (2, 5),
        (3, 1),
        (3, 2),
        (4, 0),
    }
    ln = data.lines
    assert ln.dtypes["customer_idx"] == np.int32 and ln.dtypes["product_idx"] == np.int32
    assert ln.dtypes["affiliate_idx"] == np.int16 and ln.dtypes["session_id"] == np.int64
    # dense session ids, increasing in time within each customer
    assert sorted(ln.session_id.unique()) == list(range(ln.session_id.nunique()))
    for _, g in ln.groupby("customer_idx"):
        assert g.sort_values("purchased_at").session_id.is_monotonic_increasing
    cf = data.customer_features  # one code column per attribute: 0 unknown, k = levels[k - 1]
    assert list(cf.columns) == ["gender", "age_band", "region_code"]
    assert cf.gender.tolist() == [1, 2, 1, 0, 2, 1]
    assert cf.age_band.tolist() == [1, 2, 3, 4, 0, 5]
    assert cf.region_code.tolist() == [1, 2, 0, 1, 3, 2]
    assert data.attribute_levels["gender"].tolist() == ["female", "male"]
    assert data.attribute_levels["age_band"].tolist() == ["20대", "30대", "40대", "50대", "60대"]
    # L.Point's category_major / category_middle are the generic levels 1 and 2
    assert list(data.product_features.columns) == ["category_1", "category_2"]
    assert data.product_features.category_1.tolist() == [1, 1, 2, 2, 3, 0]
    assert data.category_levels["category_1"].tolist() == ["M1", "M2", "M3"]
    assert data.assortment.tolist() == [
        [True, False, False, True, False, True],
        [False, True, True, False, False, False],
    ]
    assert data.purchase_days().tolist() == [4, 5, 1, 2, 0, 1]
    b = data.bought_matrix().toarray()
    assert b[1].tolist() == [0, 3, 2, 0, 0, 0]
    per_aff = data.bought_at_affiliate()
    assert per_aff[1][1].toarray().ravel().tolist() == [0, 3, 2, 0, 0, 0]
    assert per_aff[0][1].nnz == 0
    assert isinstance(FixedScores(TINY_SCORES), Recommender)


def test_split_customers():
    data, truth = tiny_dataset()
    groups = split_customers(data, truth)
    assert groups["all_items"].tolist() == [0, 1, 2, 3]
    assert groups["new_items"].tolist() == [0, 1, 3]
    assert groups["new_items_sparse"].tolist() == [3]


def test_metrics_hand_computed():
    data, truth = tiny_dataset()
    res = evaluate([FixedScores(TINY_SCORES)], data, truth, ks=(1, 2, 3))
    assert set(res.columns) == {"model_name", "metric", "k", "split", "value", "n_customers"}
    assert set(res.split) == {"all_items", "new_items", "new_items_sparse"}
    lg = math.log2
    idcg2 = 1 + 1 / lg(3)
    # ---- all_items (C0, C1, C2, C3)
    # C0 ranking P0 P2 P3 P4 P1 P5, truth {P0, P3}; C1 ranking P0..P5 (ties by index), truth {P4} at 5;
    # C2 truth P5 at 1; C3 ranking P5 P3 P0 P1 P2 P4, truth {P1, P2} at 4, 5
    expect = {
        ("hit_rate", 1): (1 + 0 + 1 + 0) / 4,
        ("hit_rate", 3): (1 + 0 + 1 + 0) / 4,
        ("ndcg", 1): (1 + 0 + 1 + 0) / 4,
        ("ndcg", 3): ((1 + 1 / lg(4)) / idcg2 + 0 + 1 + 0) / 4,
        ("recall", 1): (1 + 0 + 1 + 0) / 4,
        ("recall", 3): (2 / 2 + 0 + 1 + 0) / 4,
        ("precision", 3): (2 / 3 + 0 + 1 / 3 + 0) / 4,
        # AUC: C0 (4 + 3) / 8; C1 (1 + 4 * 0.5) / 5 (ties count 1/2); C2 1; C3 (1 + 1) / 8
        ("auc", None): (7 / 8 + 3 / 5 + 1 + 2 / 8) / 4,
    }
    for (m, k), v in expect.items():
        got, n = _val(res, m, k, "all_items")
        assert got == pytest.approx(v, abs=1e-12), (m, k)
        assert n == 4
    # ---- new_items (C0, C1, C3); history items removed from the ranking
    # C0 cands P1..P5: P2 P3 P4 P1 P5 -> truth P3 at 2; C1 cands P0 P3 P4 P5 -> P4 at 3;
    # C3 cands P1..P5: P5 P3 P1 P2 P4 -> P1, P2 at 3, 4
    expect_new = {
        ("hit_rate", 1): 0.0,
        ("hit_rate", 2): 1 / 3,
        ("hit_rate", 3): 1.0,
        ("ndcg", 3): (1 / lg(3) + 1 / lg(4) + (1 / lg(4)) / idcg2) / 3,
        ("recall", 3): (1 + 1 + 1 / 2) / 3,
        ("auc", None): (3 / 4 + (0.5 + 0.5 + 1) / 3 + 2 / 6) / 3,
    }
    for (m, k), v in expect_new.items():
        got, n = _val(res, m, k, "new_items")
        assert got == pytest.approx(v, abs=1e-12), (m, k)
        assert n == 3
    # ---- sparse: C3 only
    for (m, k), v in {
        ("hit_rate", 3): 1.0,
        ("ndcg", 3): (1 / lg(4)) / idcg2,
        ("recall", 3): 0.5,
        ("recall", 2): 0.0,
        ("auc", None): 1 / 3,
    }.items():
        got, n = _val(res, m, k, "new_items_sparse")
        assert got == pytest.approx(v, abs=1e-12), (m, k)
        assert n == 1
    assert res.loc[res.metric == "auc", "k"].isna().all()
    assert res.loc[res.metric != "auc", "k"].notna().all()


def test_new_items_ignores_history_scores():
    data, truth = tiny_dataset()
    hist = data.bought_matrix().toarray() > 0
    rng = np.random.default_rng(3)
    base = rng.random(TINY_SCORES.shape)
    hi = FixedScores(np.where(hist, 100.0, base), "hi")
    lo = FixedScores(np.where(hist, -100.0, base), "lo")
    res = evaluate([hi, lo], data, truth, ks=(1, 2, 3))
    for split in ("new_items", "new_items_sparse"):
        a = res[(res.model_name == "hi") & (res.split == split)].value.to_numpy()
        b = res[(res.model_name == "lo") & (res.split == split)].value.to_numpy()
        np.testing.assert_array_equal(a, b)
    a = res[(res.model_name == "hi") & (res.split == "all_items")].value.to_numpy()
    b = res[(res.model_name == "lo") & (res.split == "all_items")].value.to_numpy()
    assert not np.array_equal(a, b)


def test_nan_and_inf_scores_rank_last():
    data, truth = tiny_dataset()
    s = TINY_SCORES.copy()
    s[0, 2] = np.nan  # C0's second-best product becomes worst
    s[3, 5] = -np.inf
    res = evaluate([FixedScores(s)], data, truth, ks=(2,))
    assert _val(res, "auc", None, "all_items")[0] == pytest.approx((8 / 8 + 3 / 5 + 1 + 4 / 8) / 4)


def test_stable_topk_tie_rule():
    import torch

    s = torch.tensor([[1.0, 3.0, 3.0, 2.0, 3.0, 0.0], [5.0, 4.0, 3.0, 2.0, 1.0, 0.0], [0.0] * 6])
    assert stable_topk(s, 2).tolist() == [[1, 2], [0, 1], [0, 1]]
    assert stable_topk(s, 4).tolist() == [[1, 2, 4, 3], [0, 1, 2, 3], [0, 1, 2, 3]]
    s2 = torch.tensor([[0.0, float("-inf"), float("-inf"), 1.0]])
    assert stable_topk(s2, 4).tolist() == [[3, 0, 1, 2]]
    # randomised, many ties: equals a full stable sort
    rng = np.random.default_rng(0)
    x = rng.integers(0, 6, (300, 50)).astype(np.float32)
    x[:10] = 1.0
    x[10:20, 5:] = float("-inf")
    for k in (1, 5, 20, 49, 50):
        expected = np.argsort(-x, axis=1, kind="stable")[:, :k]
        np.testing.assert_array_equal(stable_topk(torch.from_numpy(x), k).numpy(), expected)


def test_evaluate_deterministic_on_fixture():
    data, truth, _ = make_synthetic_data(n_customers=300, n_products=120, seed=5)
    models = [PopularityRecommender().fit(data), PersonalFrequencyRecommender().fit(data)]
    r1 = evaluate(models, data, truth, batch_size=64)
    r2 = evaluate(models, data, truth, batch_size=1000)
    pd.testing.assert_frame_equal(r1.drop(columns="value"), r2.drop(columns="value"))
    np.testing.assert_allclose(r1.value.to_numpy(), r2.value.to_numpy(), rtol=0, atol=1e-12)
    r3 = evaluate(models, data, truth, batch_size=64)
    pd.testing.assert_frame_equal(r1, r3)


# ---------------------------------------------------------------- top-K per affiliate


@pytest.fixture(scope="module")
def synth():
    return make_synthetic_data()


def test_recommend_per_affiliate_rules(synth):
    data, _, _ = synth
    model = PersonalFrequencyRecommender().fit(data)  # loves already-bought products
    rec = recommend_per_affiliate(model, data, n=30)
    assert list(rec.columns) == ["customer_id", "affiliate_code", "rank", "product_code", "score"]
    c = pd.Categorical(rec.customer_id, categories=data.customer_ids).codes
    a = pd.Categorical(rec.affiliate_code, categories=data.affiliate_codes).codes
    p = pd.Categorical(rec.product_code, categories=data.product_codes).codes
    assert (c >= 0).all() and (a >= 0).all() and (p >= 0).all()
    # never a product already bought by that customer at that affiliate
    bought = {(int(x.customer_idx), int(x.affiliate_idx), int(x.product_idx)) for x in data.lines.itertuples()}
    assert not any((ci, ai, pi) in bought for ci, ai, pi in zip(c, a, p))
    # only products sold at the affiliate, only affiliates where the customer shopped
    assert data.assortment[a, p].all()
    assert (data.customer_affiliate_counts()[c, a] > 0).all()
    # ranks 1..N without gaps, no duplicate products, scores non-increasing
    for (_, _), g in rec.groupby(["customer_id", "affiliate_code"], sort=False):
        assert g["rank"].tolist() == list(range(1, len(g) + 1))
        assert g.product_code.is_unique
        assert (np.diff(g.score.to_numpy()) <= 0).all()
        assert len(g) <= 30
    per_group = rec.groupby(["customer_id", "affiliate_code"]).size()
    assert per_group.max() == 30
    # every (customer, affiliate) the customer shopped at is present
    shopped = np.argwhere(data.customer_affiliate_counts() > 0)
    assert len(per_group) == len(shopped)


def test_recommend_per_affiliate_deterministic_and_subset(synth):
    data, _, _ = synth
    model = PopularityRecommender().fit(data)  # many exact ties across customers
    r1 = recommend_per_affiliate(model, data, n=10, batch_size=128)
    r2 = recommend_per_affiliate(model, data, n=10, batch_size=1000)
    pd.testing.assert_frame_equal(r1, r2)
    some = data.customer_ids[[3, 7, 11]]
    r3 = recommend_per_affiliate(model, data, n=10, customers=some)
    assert set(r3.customer_id) <= set(some)
    pd.testing.assert_frame_equal(r3.reset_index(drop=True), r1[r1.customer_id.isin(some)].reset_index(drop=True))


def test_recommend_few_candidates():
    data, _ = tiny_dataset()
    rec = recommend_per_affiliate(FixedScores(TINY_SCORES), data, n=30)
    # C1 shopped only at A02, which sells P1, P2 — both already bought there: no rows
    assert not (rec.customer_id == "C1").any()
    # C0 at A01: assortment {P0, P3, P5} minus bought {P0} -> P3, P5
    g = rec[(rec.customer_id == "C0") & (rec.affiliate_code == "A01")]
    assert g.product_code.tolist() == ["P3", "P5"] and g["rank"].tolist() == [1, 2]


# ---------------------------------------------------------------- oracle wrapper


def test_oracle_wrapper_with_fake(tmp_path):
    data, truth = tiny_dataset()
    calls = []

    def fake(truth_dir, customer_ids, product_codes, cutoff, horizon_end):
        calls.append((truth_dir, list(customer_ids), cutoff, horizon_end))
        rows = [int(c[1:]) for c in customer_ids]
        return TINY_SCORES[rows] * 2.0

    orc = OracleRecommender(tmp_path, "2021-08-31", oracle_fn=fake).fit(data)
    out = orc.score(np.array([3, 0]))
    assert out.dtype == np.float32 and out.shape == (2, 6)
    np.testing.assert_allclose(out, TINY_SCORES[[3, 0]] * 2.0, rtol=1e-6)
    assert calls[0] == (tmp_path, ["C3", "C0"], CUT, dt.date(2021, 8, 31))
    res = evaluate([orc], data, truth, ks=(3,))
    assert set(res.model_name) == {"oracle"}

    bad = OracleRecommender(tmp_path, "2021-08-31", oracle_fn=lambda *a: np.zeros((1, 2))).fit(data)
    with pytest.raises(ValueError):
        bad.score(np.array([0, 1]))


# ---------------------------------------------------------------- scale (timing printed only)


def _large_data(n_customers=30_000, n_products=1_933, n_lines=600_000, seed=0) -> InteractionData:
    rng = np.random.default_rng(seed)
    c = rng.integers(0, n_customers, n_lines).astype(np.int32)
    p = rng.integers(0, n_products, n_lines).astype(np.int32)
    a = (p % 6).astype(np.int16)
    purchased_at = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 4000, n_lines), unit="h")
    return interaction_data_from_indices(
        c, p, a, purchased_at, n_customers=n_customers, n_products=n_products, n_affiliates=6, cut_date=CUT
    )


def test_scoring_30k_by_1933_timing():
    import torch

    data = _large_data()
    model = PersonalFrequencyRecommender().fit(data)
    t0 = time.perf_counter()
    total = 0.0
    with torch.inference_mode():
        for start in range(0, data.n_customers, 2048):
            idx = np.arange(start, min(start + 2048, data.n_customers))
            s = torch.from_numpy(model.score(idx))
            total += float(torch.topk(s, 20, dim=1).values.sum())
    dt_score = time.perf_counter() - t0
    print(f"\nscored + top-20 of {data.n_customers} x {data.n_products} in {dt_score:.2f}s")
    assert math.isfinite(total)
