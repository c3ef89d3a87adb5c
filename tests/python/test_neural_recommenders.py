"""Neural recommenders (PreferenceNN, SequentialRecommender) on the planted synthetic fixture.

Fast (single CPU thread, small data): quality against popularity, validation RMSE, next-session
hit rate, determinism under a seed, score shape/dtype and a static no-per-customer-loop check."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from recsys_fixtures import CUT_DATE, make_raw_synthetic, make_synthetic_data  # noqa: E402

from loyalty_analytics.recommenders import (  # noqa: E402
    preference_data,
    preference_net,
    preference_nn,
    sequential,
    sequential_net,
)
from loyalty_analytics.recommenders.baselines import PopularityRecommender  # noqa: E402
from loyalty_analytics.recommenders.data import build_interaction_data  # noqa: E402
from loyalty_analytics.recommenders.evaluation import evaluate  # noqa: E402
from loyalty_analytics.recommenders.preference_nn import PreferenceNN  # noqa: E402
from loyalty_analytics.recommenders.sequential import SequentialRecommender  # noqa: E402

FAST = dict(num_threads=1, verbose=False)


@pytest.fixture(scope="module")
def fixture_data():
    return make_synthetic_data(n_customers=500, n_products=200, seed=0)


@pytest.fixture(scope="module")
def pnn(fixture_data):
    data, _, _ = fixture_data
    return PreferenceNN(**FAST, random_state=0).fit(data)


def _hold_out_last_session(data):
    """History without each customer's last session (customers with >= 2 sessions) and the
    held-out sessions as a dense bool truth [customers, n_products]."""
    ln = data.lines
    last = ln.groupby("customer_idx")["session_id"].transform("max")
    n_sess = ln.groupby("customer_idx")["session_id"].transform("nunique")
    held = ((ln["session_id"] == last) & (n_sess >= 2)).to_numpy()
    train = dataclasses.replace(data, lines=ln.loc[~held].reset_index(drop=True), _cache={})
    nxt = ln.loc[held, ["customer_idx", "product_idx"]].drop_duplicates()
    rows = np.unique(nxt["customer_idx"].to_numpy())
    truth = np.zeros((len(rows), data.n_products), dtype=bool)
    truth[np.searchsorted(rows, nxt["customer_idx"].to_numpy()), nxt["product_idx"].to_numpy()] = True
    return train, rows, truth


def _hr_at(scores: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.take_along_axis(truth, top, 1).any(axis=1).mean())


@pytest.fixture(scope="module")
def next_session(fixture_data):
    data, _, _ = fixture_data
    train, rows, truth = _hold_out_last_session(data)
    model = SequentialRecommender(**FAST, random_state=0).fit(train)
    return train, rows, truth, model


# ---------------------------------------------------------------- PreferenceNN
def test_preference_nn_beats_popularity_on_new_items(fixture_data, pnn):
    data, truth, _ = fixture_data
    pop = PopularityRecommender().fit(data)
    res = evaluate([pop, pnn], data, truth, ks=(10,), metrics=("ndcg",))
    ndcg = res[(res["split"] == "new_items")].set_index("model_name")["value"]
    assert ndcg["preference_nn"] > ndcg["popularity"], ndcg.to_dict()


def test_validation_rmse_reported_and_beats_mean(fixture_data, pnn):
    data, _, _ = fixture_data
    assert pnn.validation_rmse_ is not None and np.isfinite(pnn.validation_rmse_)
    y = data.preference["preference_score"].to_numpy()
    assert pnn.baseline_rmse_ is not None
    assert pnn.validation_rmse_ < pnn.baseline_rmse_
    assert pnn.validation_rmse_ < 0.9 * float(np.std(y))
    # per-epoch logs: purchase head (likelihood) and preference head (train / validation RMSE)
    assert pnn.history_ and {"epoch", "train_nll_per_line", "seconds"} <= set(pnn.history_[0])
    assert pnn.history_[-1]["train_nll_per_line"] < pnn.history_[0]["train_nll_per_line"]
    assert pnn.preference_history_ and {"epoch", "val_rmse", "seconds"} <= set(pnn.preference_history_[0])
    p = pnn.predict_preference(
        data.preference["customer_idx"].to_numpy()[:50],
        data.preference["product_idx"].to_numpy()[:50],
        data.preference["affiliate_idx"].to_numpy()[:50],
    )
    assert p.shape == (50,) and np.all((p >= 0) & (p <= 5))


def test_preference_nn_score_shape_dtype_and_batch_consistency(fixture_data, pnn):
    data, _, _ = fixture_data
    idx = np.array([5, 0, 499, 5, 17])
    s = pnn.score(idx)
    assert s.shape == (len(idx), data.n_products) and s.dtype == np.float32
    assert np.isfinite(s).all()
    np.testing.assert_array_equal(s[0], s[3])
    full = pnn.score(np.arange(data.n_customers))
    np.testing.assert_allclose(full[idx], s, rtol=1e-5, atol=1e-5)
    assert pnn.score(np.array([], dtype=np.int64)).shape == (0, data.n_products)


def test_preference_nn_without_preference_table_and_cold_customers(fixture_data):
    data, _, _ = fixture_data
    small = dataclasses.replace(data, preference=None, _cache={})
    m = PreferenceNN(epochs=2, **FAST, random_state=1).fit(small)
    assert m.validation_rmse_ is not None  # fallback preference score was built
    cold = np.flatnonzero(~small.has_history())
    if len(cold):
        assert np.isfinite(m.score(cold)).all()


def test_preference_nn_affiliate_mixture_head(fixture_data, pnn):
    """The purchase head is one softmax per affiliate over the products it sold, mixed by the
    customer's smoothed affiliate shares -> score = log of a probability over products."""
    data, _, _ = fixture_data
    idx = np.arange(0, data.n_customers, 7)
    p = np.exp(pnn.score(idx).astype(np.float64))
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-3)
    never_sold = ~np.asarray(data.assortment).any(axis=0)
    if never_sold.any():
        assert (p[:, never_sold] < 1e-12).all()


def test_preference_nn_refit_moves_customers_to_their_optimum(fixture_data):
    """The L-BFGS re-fit drives the gradient of the customers' penalised likelihood w.r.t. their
    own embeddings towards 0: far below where the Adam epochs left it with the default
    iterations, ~0 with enough of them."""
    data, _, _ = fixture_data
    active = np.flatnonzero(data.has_history())

    def grad_and_loss(model):
        net = model.net_
        emb = net.customer.weight.detach()[torch.from_numpy(active)].clone().requires_grad_(True)
        u = emb + net.prior(model.customer_features_[torch.from_numpy(active)]).detach()
        v = net.products(model.product_features_, model.candidates_).detach()
        loss = model._purchase_nll(net, model._prepare(data), active, u, v) + model.customer_l2 * emb.pow(2).sum()
        loss.backward()
        return float(emb.grad.norm()), float(loss.detach())

    short = dict(epochs=2, min_total_steps=0, **FAST)
    g_raw, l_raw = grad_and_loss(PreferenceNN(refit_iterations=0, **short).fit(data))
    g_default, l_default = grad_and_loss(PreferenceNN(**short).fit(data))
    g_long, l_long = grad_and_loss(PreferenceNN(refit_iterations=300, **short).fit(data))
    assert l_long <= l_default < l_raw
    assert g_default < 0.2 * g_raw
    assert g_long < 1e-3 * g_raw


def test_preference_nn_customer_without_history_gets_the_demographic_prior(fixture_data):
    """Customers without lines keep a zero free embedding and global affiliate shares: two of
    them with the same sex / age / region get identical scores; customers with history don't."""
    data, _, _ = fixture_data
    cold = np.arange(10)
    features = data.customer_features.copy()
    for column in features.columns:  # the cold customers share customer 0's sex / age / region
        values = features[column].to_numpy().copy()
        values[cold] = values[0]
        features[column] = values
    lines = data.lines[~data.lines["customer_idx"].isin(cold)].reset_index(drop=True)
    cold_data = dataclasses.replace(data, lines=lines, customer_features=features, _cache={})
    model = PreferenceNN(epochs=2, min_total_steps=0, **FAST).fit(cold_data)
    emb = model.net_.customer.weight.detach().numpy()
    assert np.all(emb[cold] == 0) and np.abs(emb[10:]).sum() > 0
    scores = model.score(np.concatenate([cold, [10, 11]]))
    np.testing.assert_array_equal(scores[0], scores[9])
    assert not np.array_equal(scores[10], scores[11])


# ---------------------------------------------------------------- sequential
def test_sequential_beats_popularity_on_next_session_hr10(next_session):
    train, rows, truth, model = next_session
    pop = PopularityRecommender().fit(train)
    hr_model = _hr_at(model.score(rows), truth)
    hr_pop = _hr_at(pop.score(rows), truth)
    assert hr_model > hr_pop, (hr_model, hr_pop)


def test_sequential_score_shape_dtype(next_session):
    train, rows, _, model = next_session
    assert model.name == "sequential_gru"
    idx = np.concatenate([rows[:3], np.flatnonzero(~train.has_history())[:2], rows[:1]])
    s = model.score(idx)
    assert s.shape == (len(idx), train.n_products) and s.dtype == np.float32
    assert np.isfinite(s).all()
    np.testing.assert_allclose(s[0], s[-1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.concatenate([model.score(idx[:2]), model.score(idx[2:])]), s, rtol=1e-5, atol=1e-5)


def test_session_table_is_time_ordered(fixture_data):
    data, _, _ = fixture_data
    st = sequential_net.build_session_table(data)
    assert st["n_sessions"] == data.lines["session_id"].nunique()
    assert np.all(np.diff(st["customer"]) >= 0)
    assert st["item_ptr"][-1] == len(data.lines[["session_id", "product_idx"]].drop_duplicates())
    assert st["spend_bin"].max() < sequential_net.N_SPEND_BINS and st["gap_bin"].max() < sequential_net.N_GAP_BINS


# ---------------------------------------------------------------- determinism
@pytest.fixture(scope="module")
def small_data():
    return make_synthetic_data(n_customers=150, n_products=80, seed=3)[0]


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: PreferenceNN(epochs=3, **FAST, random_state=seed),
        lambda seed: SequentialRecommender(epochs=2, **FAST, random_state=seed),
        lambda seed: SequentialRecommender(arch="attention", epochs=2, **FAST, random_state=seed),
    ],
    ids=["preference_nn", "sequential_gru", "sequential_attention"],
)
def test_same_seed_same_scores(small_data, make):
    idx = np.arange(small_data.n_customers)
    det_before, threads_before = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    a = make(11).fit(small_data).score(idx)
    b = make(11).fit(small_data).score(idx)
    np.testing.assert_array_equal(a, b)
    c = make(12).fit(small_data).score(idx)
    assert not np.array_equal(a, c)
    # process-wide torch settings are restored after fit/score
    assert torch.are_deterministic_algorithms_enabled() == det_before
    assert torch.get_num_threads() == threads_before


# ---------------------------------------------------------------- vectorisation guard
@pytest.mark.parametrize("module", [preference_nn, preference_net, preference_data, sequential, sequential_net])
def test_no_python_loops_over_customers(module):
    """Loops are allowed over epochs, batches (``s``, ``block``) and module lists (``emb``) only;
    every per-customer / per-line computation is array or tensor algebra."""
    tree = ast.parse(Path(module.__file__).read_text())
    targets = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.For, ast.While)):
            targets.add(ast.unparse(node.target) if isinstance(node, ast.For) else "while")
    assert targets <= {"epoch", "s", "block", "emb"}, targets


# ---------------------------------------------------------------- whatever customer attributes exist
def _attribute_frames(kind: str, cold: np.ndarray):
    """The fixture's lines without the history of the ``cold`` customers, and a customers
    frame with no attribute, one informative categorical one, or several mixed ones."""
    lines, customers, products, true_scores = make_raw_synthetic(n_customers=500, n_products=200, seed=0)
    is_cold = lines["customer_id"].isin(customers["customer_id"].to_numpy()[cold])
    lines = lines[~(is_cold & (lines["purchased_at"] < pd.Timestamp(CUT_DATE) + pd.Timedelta(days=1)))]
    rng = np.random.default_rng(1)
    frame = customers[["customer_id"]].copy()
    if kind == "one":  # the planted taste depends on sex × age
        frame["segment"] = customers["gender"] + "/" + customers["age_band"]
    elif kind == "mixed":
        age = customers["age_band"].str.extract(r"(\d+)", expand=False).astype(float) + rng.integers(0, 10, 500)
        frame["age_years"] = age.where(rng.random(500) > 0.1)  # numeric, many values -> quantile bins
        frame["sex"] = customers["gender"].where(rng.random(500) > 0.1)  # text with gaps
        frame["household_size"] = rng.integers(1, 6, 500)  # few numbers -> one level each
        frame["member"] = rng.random(500) > 0.5  # boolean
    return lines, frame, products, true_scores


def _cold_quality(model, data, cold, true_scores) -> float:
    """Mean Spearman correlation of the cold customers' scores with their planted scores."""
    from scipy.stats import spearmanr

    scores = model.score(cold)
    return float(np.mean([spearmanr(scores[i], true_scores[c]).statistic for i, c in enumerate(cold)]))


ATTRIBUTE_MODELS = {
    "preference_nn": lambda: PreferenceNN(epochs=3, min_total_steps=300, **FAST),
    "sequential_gru": lambda: SequentialRecommender(epochs=2, **FAST),
}


@pytest.mark.parametrize("name", list(ATTRIBUTE_MODELS))
def test_any_customer_attributes_work_and_informative_ones_help_cold_customers(name):
    cold = np.arange(0, 500, 5)
    fitted = {}
    for kind in ("none", "one", "mixed"):
        lines, customers, products, true_scores = _attribute_frames(kind, cold)
        data, _ = build_interaction_data(lines, customers, products, None, CUT_DATE)
        assert not data.has_history()[cold].any()
        model = ATTRIBUTE_MODELS[name]().fit(data)
        scores = model.score(cold)
        assert scores.shape == (len(cold), data.n_products) and np.isfinite(scores).all()
        fitted[kind] = (model, data, scores)
    # no attribute: every cold customer gets the same scores
    assert list(fitted["none"][1].customer_features.columns) == []
    np.testing.assert_allclose(fitted["none"][2], fitted["none"][2][[0]].repeat(len(cold), 0), rtol=1e-5, atol=1e-5)
    # one categorical attribute: cold customers of the same segment agree, of different segments differ
    segment = fitted["one"][1].customer_features["segment"].to_numpy()[cold]
    same = np.flatnonzero(segment == segment[0])
    other = np.flatnonzero(segment != segment[0])
    np.testing.assert_allclose(
        fitted["one"][2][same], fitted["one"][2][[same[0]]].repeat(len(same), 0), rtol=1e-5, atol=1e-5
    )
    assert not np.allclose(fitted["one"][2][0], fitted["one"][2][other[0]])
    # ... and, being informative, ranks the cold customers' products closer to the planted truth
    true_scores = make_raw_synthetic(n_customers=500, n_products=200, seed=0)[3]
    assert (
        _cold_quality(fitted["one"][0], fitted["one"][1], cold, true_scores)
        > _cold_quality(fitted["none"][0], fitted["none"][1], cold, true_scores) + 0.02
    )
    # several mixed columns: numbers with many values in quantile bins, few numbers / booleans /
    # text as levels, gaps as unknown (0)
    features = fitted["mixed"][1].customer_features
    assert list(features.columns) == ["age_years", "sex", "household_size", "member"]
    assert features["age_years"].max() == len(fitted["mixed"][1].attribute_levels["age_years"]) <= 8
    assert (features["age_years"] == 0).any() and (features["sex"] == 0).any()
    assert fitted["mixed"][1].attribute_levels["household_size"].tolist() == ["1", "2", "3", "4", "5"]
    assert fitted["mixed"][1].attribute_levels["member"].tolist() == ["False", "True"]
