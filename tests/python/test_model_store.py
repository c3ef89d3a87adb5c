"""Stored recommenders: save → load → score, versions, the artifact folder, fit → store → apply."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from recsys_fixtures import CUT_DATE, make_raw_synthetic, make_synthetic_data  # noqa: E402

from loyalty_analytics import model_store  # noqa: E402
from loyalty_analytics.recommenders import jobs  # noqa: E402
from loyalty_analytics.recommenders.baselines import (  # noqa: E402
    AffiliatePopularityRecommender,
    ALSRecommender,
    CooccurrenceRecommender,
    PersonalFrequencyRecommender,
    PopularityRecommender,
)
from loyalty_analytics.recommenders.evaluation import evaluate  # noqa: E402
from loyalty_analytics.recommenders.preference_nn import PreferenceNN  # noqa: E402
from loyalty_analytics.recommenders.sequential import SequentialRecommender  # noqa: E402
from loyalty_analytics.recommenders.tifu_knn import TIFUKNNRecommender  # noqa: E402

FAST = dict(num_threads=1, verbose=False)
MODELS = {
    "popularity": lambda seed: PopularityRecommender(random_state=seed),
    "popularity_affiliate": lambda seed: AffiliatePopularityRecommender(random_state=seed),
    "personal_frequency": lambda seed: PersonalFrequencyRecommender(random_state=seed),
    "personal_frequency_decay": lambda seed: PersonalFrequencyRecommender(half_life_days=30, random_state=seed),
    "als": lambda seed: ALSRecommender(factors=4, iterations=5, random_state=seed),
    "cooccurrence": lambda seed: CooccurrenceRecommender(random_state=seed),
    "tifu_knn": lambda seed: TIFUKNNRecommender(n_neighbors=20, random_state=seed),
    "preference_nn": lambda seed: PreferenceNN(epochs=2, min_total_steps=0, **FAST, random_state=seed),
    "sequential_gru": lambda seed: SequentialRecommender(epochs=1, **FAST, random_state=seed),
    "sequential_attention": lambda seed: SequentialRecommender(arch="attention", epochs=1, **FAST, random_state=seed),
}


@pytest.fixture(scope="module")
def small_data():
    return make_synthetic_data(n_customers=150, n_products=80, seed=3)[0]


@pytest.fixture(scope="module")
def stored(small_data, tmp_path_factory):
    """Every model class fitted once and saved: name -> (fitted model, artifact folder)."""
    root = tmp_path_factory.mktemp("models")
    out = {}
    for key, make in MODELS.items():
        model = make(7).fit(small_data)
        out[key] = (model, model.save(root / key / model.version_))
    return out


@pytest.mark.parametrize("key", list(MODELS))
def test_save_load_score_gives_identical_scores(stored, small_data, key):
    model, path = stored[key]
    loaded = model_store.load_artifact(path)
    assert type(loaded) is type(model) and loaded.get_params() == model.get_params()
    idx = np.arange(small_data.n_customers)
    np.testing.assert_array_equal(loaded.score(idx), model.score(idx))
    assert loaded.version_ == model.version_ and loaded.cut_date_ == small_data.cut_date
    np.testing.assert_array_equal(loaded.customer_ids_, small_data.customer_ids)
    loaded.check_vocabularies(small_data)


def test_loaded_models_keep_their_training_figures(stored, small_data):
    pnn, path = stored["preference_nn"]
    loaded = type(pnn).load(path)
    assert loaded.validation_rmse_ == pnn.validation_rmse_ and loaded.history_ == pnn.history_
    triples = [small_data.preference[c].to_numpy()[:30] for c in ("customer_idx", "product_idx", "affiliate_idx")]
    np.testing.assert_array_equal(loaded.predict_preference(*triples), pnn.predict_preference(*triples))
    seq, path = stored["sequential_gru"]
    assert type(seq).load(path).validation_hr10_ == seq.validation_hr10_


def test_artifact_folder_has_metadata_and_plain_weights(stored, small_data):
    for key, (model, path) in stored.items():
        meta = json.loads((path / "metadata.json").read_text())
        assert set(model_store.METADATA_FIELDS) <= set(meta), key
        assert meta["model_name"] == model.name and meta["version"] == path.name and meta["random_state"] == 7
        assert meta["cut_date"] == "2021-06-30" and meta["params"] == model.get_params()
        assert meta["sizes"]["n_customers"] == small_data.n_customers and meta["fit_seconds"] >= 0
        assert meta["vocabularies"]["customer_ids"] == small_data.customer_ids.tolist()
        assert meta["vocabularies"]["product_codes"] == small_data.product_codes.tolist()
        assert meta["vocabularies"]["affiliate_codes"] == small_data.affiliate_codes.tolist()
        # weights load without unpickling arbitrary objects
        if isinstance(model, (PreferenceNN, SequentialRecommender)):
            assert torch.load(path / "weights.pt", weights_only=True)["net"]
        else:
            with np.load(path / "weights.npz", allow_pickle=False) as weights:
                assert weights.files
        assert sorted(p.name for p in path.iterdir()) == sorted(["metadata.json", meta["weights_file"]])


def test_version_is_stable_and_changes_with_seed_or_data(small_data):
    fewer_lines = dataclasses.replace(small_data, lines=small_data.lines.iloc[1:].reset_index(drop=True), _cache={})
    for key, make in MODELS.items():
        version = make(7).version_for(small_data)
        assert version == make(7).version_for(dataclasses.replace(small_data, _cache={})), key
        assert version.startswith("0.") and "+" in version
        assert make(8).version_for(small_data) != version, key
        assert make(7).version_for(fewer_lines) != version, key
    assert ALSRecommender(factors=5).version_for(small_data) != ALSRecommender(factors=4).version_for(small_data)
    assert PopularityRecommender().fit(small_data).version_ == PopularityRecommender().version_for(small_data)


def test_version_ignores_the_order_the_warehouse_returned_the_lines_in(small_data):
    """Lines that tie on the sort keys come back from DuckDB in any order: same data, same version."""
    shuffled = small_data.lines.sample(frac=1.0, random_state=0).reset_index(drop=True)
    reordered = dataclasses.replace(small_data, lines=shuffled, _cache={})
    for key, make in MODELS.items():
        assert make(7).version_for(reordered) == make(7).version_for(small_data), key


def test_store_models_reuses_an_identical_version(small_data, tmp_path, monkeypatch):
    first = jobs.store_models(
        [PopularityRecommender(), ALSRecommender(factors=4, iterations=5)], small_data, "evaluation", root=tmp_path
    )
    assert first["artifact_path"].map(model_store.is_stored).all()
    mtimes = [(tmp_path / p / "metadata.json").stat().st_mtime_ns for p in first["artifact_path"]]

    def no_refit(self, data):
        raise AssertionError("an identical stored version must be reused, not refitted")

    monkeypatch.setattr(ALSRecommender, "fit", no_refit)
    monkeypatch.setattr(PopularityRecommender, "fit", no_refit)
    again = jobs.store_models(
        [PopularityRecommender(), ALSRecommender(factors=4, iterations=5)], small_data, "evaluation", root=tmp_path
    )
    assert again.equals(first)
    assert [(tmp_path / p / "metadata.json").stat().st_mtime_ns for p in again["artifact_path"]] == mtimes
    assert list(first["model_name"]) == ["popularity", "als"] and set(first["used_for"]) == {"evaluation"}


def test_apply_loads_the_registry_and_rejects_other_vocabularies(small_data, tmp_path):
    registry = jobs.store_models(
        [PopularityRecommender(), PreferenceNN(epochs=1, min_total_steps=0, **FAST)],
        small_data,
        "published",
        root=tmp_path,
    )
    recs = jobs.recommend(registry, small_data, n=3)
    assert set(recs["model_name"]) == {"popularity", "preference_nn"}
    assert set(recs["model_version"]) == set(registry["version"])
    mission = jobs.stamp_mission(registry, small_data)
    assert set(mission["model_name"]) == {"preference_nn"} and len(mission)
    other = make_synthetic_data(n_customers=120, n_products=80, seed=3)[0]
    with pytest.raises(ValueError, match="customer_ids differ"):
        jobs.load_models(registry, other)


def test_write_artifact_is_atomic(tmp_path):
    target = tmp_path / "m" / "1"

    def broken_weights(folder):
        (folder / "weights.npz").write_bytes(b"partial")
        raise OSError("disk full")

    meta = {name: None for name in model_store.METADATA_FIELDS}
    with pytest.raises(OSError, match="disk full"):
        model_store.write_artifact(target, meta, broken_weights)
    assert not target.exists() and list((tmp_path / "m").iterdir()) == []
    assert model_store.write_artifact(target, meta, lambda folder: None) is True
    assert model_store.write_artifact(target, meta, broken_weights) is False  # stored: not rewritten


def test_evaluating_stored_models_matches_evaluating_fitted_ones(tmp_path):
    lines, customers, products, _ = make_raw_synthetic(n_customers=150, n_products=80, seed=3)
    cut, end = CUT_DATE, dt.date(2021, 8, 29)
    data, truth = jobs.split_at(cut, end, lines, customers, products, preference=None)
    models = [PopularityRecommender(), CooccurrenceRecommender(), PreferenceNN(epochs=1, min_total_steps=0, **FAST)]
    registry = jobs.store_models(models, data, "evaluation", root=tmp_path)
    stored = jobs.evaluate_models(registry, lines, customers, products, calibration_end=cut, observation_end=end)
    fitted = evaluate(models, data, truth)
    key = ["model_name", "metric", "k", "split"]
    ranking = stored[stored["split"] != "train_validation"].astype({"n_customers": "int64"})
    ranking = ranking.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(ranking, fitted.sort_values(key).reset_index(drop=True))
    figures = stored[stored["split"] == "train_validation"]
    assert set(figures.loc[figures["metric"] == "fit_seconds", "model_name"]) == {m.name for m in models}
    rmse = figures.loc[figures["metric"] == "validation_rmse", "value"].item()
    assert rmse == pytest.approx(models[2].validation_rmse_)


def test_quick_training_keeps_the_models_and_cuts_their_optimisation():
    """dbt var recommender_training=quick (CI and smoke runs): the same model classes with about a
    tenth of the optimisation; an unknown value is refused."""
    full, quick = jobs.neural_models(0), jobs.neural_models(0, "quick")
    assert [type(m) for m in quick] == [type(m) for m in full]
    assert quick[0].min_total_steps * 5 <= full[0].min_total_steps and quick[0].epochs < full[0].epochs
    assert quick[1].epochs < full[1].epochs
    with pytest.raises(ValueError, match="recommender_training"):
        jobs.neural_models(0, "fast")
