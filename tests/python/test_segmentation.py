"""Segmentation: k recovery on planted clusters, stability, naming rules, tiers, CDNOW case, and
the stored model (fit once, apply the stored params)."""

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from loyalty_analytics import segmentation as sg


def planted_customers(n=3000, seed=0):
    """Three well-separated planted groups with customer_rfm-like columns:
    0 = heavy L.Pay users with high spend, 1 = frequent small baskets, 2 = rare big tickets."""
    rng = np.random.default_rng(seed)
    g = rng.choice(3, size=n, p=[0.25, 0.4, 0.35])
    receipts = np.round(np.where(g == 2, rng.lognormal(1.0, 0.25, n), rng.lognormal(4.0, 0.25, n))) + 1
    ticket = np.choose(g, [rng.lognormal(11.5, 0.4, n), rng.lognormal(9.0, 0.4, n), rng.lognormal(12.5, 0.4, n)])
    total = receipts * ticket
    share = np.where(g == 0, rng.uniform(0.5, 0.8, n), 0.0)
    T = np.round(rng.uniform(200, 364, n))
    dsl = np.round(rng.uniform(0, 20, n))
    rec = T - dsl
    freq = np.minimum(receipts - 1, rec)
    df = pd.DataFrame(
        {
            "customer_id": [f"M{i:09d}" for i in range(n)],
            "frequency": freq,
            "recency": rec,
            "T": T,
            "monetary_value": np.where(freq > 0, ticket, 0.0),
            "days_since_last_purchase": dsl,
            "n_receipts": receipts,
            "total_spend": total,
            "lpay_spend": total * share,
            "other_spend": total * (1 - share),
            "lpay_receipts": np.round(receipts * share),
            "clv_3m": total / T * 90 * rng.uniform(0.8, 1.2, n),
        }
    )
    customers = pd.DataFrame(
        {
            "customer_id": df["customer_id"],
            "gender": np.where(g == 1, "male", "female"),
            "age_band": np.choose(g, [30, 50, 40]),
            "region_code": "Z01",
        }
    )
    return df, customers, g


@pytest.fixture(scope="module")
def planted():
    df, customers, g = planted_customers()
    X = sg.prepare_features(df, None, customers)
    truth = pd.DataFrame({"customer_id": df["customer_id"], "segment_id": g})
    return X, g, sg.run_segmentation(X, truth=truth)


@pytest.fixture(scope="module")
def fitted(planted):
    X, _, _ = planted
    return sg.SegmentationModel().fit(X)


def metric(res, model, name):
    m = res.metrics
    return m[(m.model_name == model) & (m.metric == name)]["value"].iloc[0]


def test_planted_k_and_recovery(planted):
    X, g, res = planted
    for model in ("kmeans_seed001_features", "kmeans_rfmtclv_features"):
        assert metric(res, model, "k") == 3
        assert metric(res, model, "ari_vs_truth") >= 0.9
        assert metric(res, model, "ari_seed_stability") >= 0.9
    assert adjusted_rand_score(g, res.segments["segment_id_seed001"]) >= 0.9


def test_names_follow_rules(planted):
    X, g, res = planted
    s = res.segments
    majority = {grp: s.loc[g == grp, "segment_name_seed001"].mode().iloc[0] for grp in range(3)}
    assert majority == {0: "L.Pay VIP", 1: "frequent low-spend", 2: "occasional big-ticket"}
    for col in ("segment_name_seed001", "segment_name_rfmtclv"):
        per_id = s.groupby(f"segment_id_{col.split('_')[-1]}")[col].nunique()
        assert (per_id == 1).all()  # one name per segment
        assert s[col].nunique() == s[f"segment_id_{col.split('_')[-1]}"].nunique()  # unique names


def test_name_rules_on_profiles():
    prof = pd.DataFrame(
        {
            "freq": [0.2, 1.0, 0.6, -0.8, -0.6, 0.0],
            "ticket": [0.5, 0.2, -0.8, 1.0, 0.0, 0.0],
            "value": [0.8, 1.0, -0.2, 0.3, -0.8, 0.0],
            "lapse": [-0.3, -0.5, -0.4, -0.2, 1.2, 1.0],
            "lpay": [2.0, 0.1, -0.3, -0.3, -0.3, -0.3],
            "tenure": [0.0] * 6,
            "female": [0.5, 0.9, 0.1, 0.0, 0.0, 0.0],
            "age": [0.0] * 6,
        },
        index=[1, 2, 3, 4, 5, 6],
    )
    names = sg.name_segments(prof)
    assert names[1] == "L.Pay VIP"
    assert names[2] == "loyal high-spend"
    assert names[3] == "frequent low-spend"
    assert names[4] == "occasional big-ticket"
    assert {names[5], names[6]} == {"at risk, higher-value", "at risk, lower-value"}
    assert names == sg.name_segments(prof)  # deterministic


def test_stored_params_applied_give_the_fitted_segments(planted, fitted):
    """Fit once, store as a table, apply the table: the warehouse returns its rows in any order
    and with its own dtypes, and the applied segments are the fitted ones."""
    X, g, res = planted
    params = fitted.to_params()
    warehouse = duckdb.connect()
    warehouse.register("params", params)
    stored = warehouse.sql("select * from params order by hash(model_name || component || coalesce(key, ''))").df()
    applied = sg.SegmentationModel.from_params(stored)
    for name, segmenter in fitted.segmenters_.items():
        np.testing.assert_array_equal(applied.segmenters_[name].predict(X), segmenter.labels_)
        assert applied.segmenters_[name].segment_names_ == segmenter.segment_names_
        assert applied.segmenters_[name].get_params() == segmenter.get_params()
    pd.testing.assert_frame_equal(applied.to_params(), params, check_exact=True)
    pd.testing.assert_frame_equal(applied.predict(X), res.segments, check_exact=True)


def test_hyperparameters_in_init_learned_attributes_only_after_fit(planted):
    X, _, _ = planted
    model = sg.SegmentationModel(random_state=3, sample_size=500)
    assert not [name for name in vars(model) if name.endswith("_")]
    assert model.get_params() == {
        "k_range": (2, 8),
        "sample_size": 500,
        "random_state": 3,
        "n_init": 10,
        "primary": "seed001",
    }
    model.fit(X.head(600))
    assert {"segmenters_", "primary_", "tiers_"} <= set(vars(model))
    assert model.segmenters_["seed001"].random_state == 3 and model.tiers_.random_state == 3


def test_tiers(planted):
    X, g, res = planted
    s = res.segments
    assert s["tier"].notna().all() and len(s) == len(X)
    assert set(s["tier"]) <= {"VIP", "Gold", "Silver", "Bronze", "At Risk"}
    means = s.groupby("tier")["tier_score"].mean()
    assert means.idxmax() == "VIP"
    for c in ("recency_score", "frequency_score", "monetary_score", "T_score", "clv_score"):
        assert s[c].between(1, 4).all()
    # most recent customers get recency score 4
    assert s.loc[X["days_since_last_purchase"] == X["days_since_last_purchase"].min(), "recency_score"].eq(4).all()
    weights = res.metrics[res.metrics.metric.str.startswith("weight_")]["value"]
    assert weights.sum() == pytest.approx(1.0)


def test_profiles_in_original_units(planted):
    X, g, res = planted
    p = res.profiles
    sizes = p[p.model_name == "kmeans_seed001_features"].drop_duplicates("segment_id")
    assert sizes["n_customers"].sum() == len(X)
    assert sizes["share"].sum() == pytest.approx(1.0)
    spend = p[(p.model_name == "kmeans_seed001_features") & (p.feature == "lpay_spend")].set_index("segment_name")
    assert spend.loc["L.Pay VIP", "mean"] > 10 * spend["mean"].drop("L.Pay VIP").max()
    assert spend["centroid_original"].notna().all()


def test_works_without_demographics_cdnow_case():
    df, _, g = planted_customers(n=1500, seed=3)
    df = df.drop(columns=["lpay_spend", "other_spend", "lpay_receipts"])
    res = sg.run_segmentation(sg.prepare_features(df), truth=None)
    s = res.segments
    assert s["segment_id_seed001"].isna().all() and s["segment_id_rfmtclv"].notna().all()
    assert (s["segment_id"] == s["segment_id_rfmtclv"]).all()
    assert (s["segmentation_model"] == "kmeans_rfmtclv_features").all()
    assert s["tier"].notna().all()
    assert set(res.metrics.model_name) == {"kmeans_rfmtclv_features", "tier_seed004"}


def test_result_does_not_depend_on_row_order():
    df, customers, g = planted_customers(n=1200, seed=4)
    X = sg.prepare_features(df, None, customers)
    a = sg.run_segmentation(X, truth=None, stability_check=False)
    b = sg.run_segmentation(X.sample(frac=1.0, random_state=1), truth=None, stability_check=False)
    pd.testing.assert_frame_equal(a.segments, b.segments)
    pd.testing.assert_frame_equal(a.profiles, b.profiles, check_exact=True)
    keep = a.metrics.metric != "fit_seconds"
    pd.testing.assert_frame_equal(a.metrics[keep], b.metrics[b.metrics.metric != "fit_seconds"], check_exact=True)
    fitted_params = a.params.component != "fit_seconds"
    pd.testing.assert_frame_equal(
        a.params[fitted_params], b.params[b.params.component != "fit_seconds"], check_exact=True
    )


# Importances of the RandomForest in the 800-customer / seed 7 build: normalised, their float sum
# is 1.0000000000000002, and a customer scoring 4 everywhere got tier_score 4.000000000000001.
WEIGHTS_SUMMING_ABOVE_ONE = {
    "recency": 0.4991945035920036,
    "frequency": 0.044285489738796875,
    "monetary": 0.0245739707573624,
    "T": 0.013403760486317712,
    "clv": 0.4185422754255195,
}


def test_tier_score_stays_within_1_and_4_in_floating_point():
    from fractions import Fraction
    from itertools import product

    names = list(WEIGHTS_SUMMING_ABOVE_ONE)
    grid = np.array(list(product([1, 2, 3, 4], repeat=len(names))))  # every combination of scores
    # cut points apply to the oriented value (direction × column): oriented value = the wanted score
    df = pd.DataFrame({sg.TIER_FEATURES[n]: sg.TIER_DIRECTION[n] * grid[:, j] for j, n in enumerate(names)})
    stored = [("tier_seed004", "weight", None, n, w, None) for n, w in WEIGHTS_SUMMING_ABOVE_ONE.items()]
    stored += [
        ("tier_seed004", "quartile_cut", None, f"{n}_q{q}", sg.TIER_DIRECTION[n] * cut, None)
        for n in names
        for q, cut in zip((25, 50, 75), (1.5, 2.5, 3.5), strict=True)
    ]
    tiering = sg.TierModel.from_params(pd.DataFrame(stored[::-1], columns=sg.PARAMS_COLUMNS))
    assert list(tiering.weights_) == names  # the fitted order, whatever the row order
    s = tiering.scores(df)
    assert (s[[f"{n}_score" for n in names]].to_numpy() == grid).all()
    assert s["tier_score"].between(1, 4).all(), s["tier_score"].max()
    same = (grid == grid[:, :1]).all(axis=1)  # equal scores: the mean is exactly that score
    assert (s["tier_score"][same].to_numpy() == grid[same, 0]).all()
    # and every score is the exact weighted mean to the documented 6 decimals (+ the float sum's ~1e-15)
    w = [Fraction(WEIGHTS_SUMMING_ABOVE_ONE[n]) for n in names]
    exact = [float(sum(wi * int(si) for wi, si in zip(w, row, strict=True)) / sum(w)) for row in grid]
    assert np.abs(s["tier_score"].to_numpy() - exact).max() <= 0.5 * 10.0**-sg.TIER_SCORE_DECIMALS + 1e-12
