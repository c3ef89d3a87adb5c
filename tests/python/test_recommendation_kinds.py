"""Recommendation kinds (candidate sets, top-N, evaluation splits), the purchase-probability
calibrator and the champion choice, on small hand-made or synthetic frames."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from recsys_fixtures import make_raw_synthetic

from loyalty_analytics.recommenders import jobs, kinds
from loyalty_analytics.recommenders.baselines import (
    AffiliatePopularityRecommender,
    PersonalFrequencyRecommender,
    PopularityRecommender,
)
from loyalty_analytics.recommenders.calibration import (
    PurchaseCalibrator,
    expected_calibration_error,
    reliability_table,
)
from loyalty_analytics.recommenders.data import affiliate_truth_pairs, build_interaction_data
from loyalty_analytics.recommenders.kinds import KINDS, evaluate_kinds, kind_candidates, kind_lists

CUT = dt.date(2021, 6, 30)


class FixedScores:
    """Scores from a fixed [customers, products] array (ties on purpose)."""

    def __init__(self, scores, name="fixed"):
        self.scores = np.asarray(scores, dtype=np.float32)
        self.name = name

    def score(self, customer_idx):
        return self.scores[np.asarray(customer_idx)]


def _line(c, p, day, aff, hour=10):
    return {
        "customer_id": f"C{c}",
        "product_code": f"P{p}",
        "affiliate_code": aff,
        "purchased_at": pd.Timestamp(day) + pd.Timedelta(hours=hour),
        "session_id": f"s{c}_{day}_{aff}",
        "quantity": 1,
        "amount": 1.0,
    }


def kinds_dataset():
    """Assortment A01 = {P0, P1, P3, P4}, A02 = {P0, P2, P3, P5} (sold there before the cut).

    C0: P0 at A01 on 2 days, P1 at A01 on 1 day, P2 at A02 on 1 day, P3 at A02 on 3 days
    C1: P4 and P3 at A01, P0 and P5 at A02 (1 day each)
    C2: P2 at A02 twice on one day, P5 at A02 on 2 days (only A02: no A01 unit)
    C3: only after the cut (no unit)
    """
    rows = [_line(0, 0, "2021-01-04", "A01"), _line(0, 0, "2021-02-04", "A01"), _line(0, 1, "2021-03-04", "A01")]
    rows += [_line(0, 2, "2021-01-05", "A02")] + [
        _line(0, 3, d, "A02") for d in ("2021-01-06", "2021-02-06", "2021-06-30")
    ]
    rows += [_line(1, 4, "2021-02-01", "A01"), _line(1, 3, "2021-02-01", "A01")]
    rows += [_line(1, 0, "2021-03-01", "A02"), _line(1, 5, "2021-03-01", "A02")]
    rows += [_line(2, 2, "2021-04-01", "A02", hour=9), _line(2, 2, "2021-04-01", "A02", hour=17)]
    rows += [_line(2, 5, "2021-04-02", "A02"), _line(2, 5, "2021-05-02", "A02")]
    # after the cut: a new product at A01 and C3's first purchase change no candidate set
    rows += [_line(0, 1, "2021-07-02", "A01"), _line(3, 4, "2021-07-03", "A01"), _line(1, 2, "2021-07-04", "A01")]
    lines = pd.DataFrame(rows)
    data, _ = build_interaction_data(lines, None, None, None, CUT, affiliate_codes=["A01", "A02"])
    return data, lines


EXPECTED_CANDIDATES = {  # (customer, affiliate) -> kind -> products
    ("C0", "A01"): {"new_to_customer": {"P4"}, "new_at_affiliate": {"P3"}, "replenishment": {"P0"}},
    ("C0", "A02"): {"new_to_customer": {"P5"}, "new_at_affiliate": {"P0"}, "replenishment": {"P3"}},
    ("C1", "A01"): {"new_to_customer": {"P1"}, "new_at_affiliate": {"P0"}, "replenishment": set()},
    ("C1", "A02"): {"new_to_customer": {"P2"}, "new_at_affiliate": {"P3"}, "replenishment": set()},
    ("C2", "A02"): {"new_to_customer": {"P0", "P3"}, "new_at_affiliate": set(), "replenishment": {"P5"}},
}


def test_candidate_sets_of_each_kind_match_the_definitions():
    data, _ = kinds_dataset()
    assert data.assortment.tolist() == [
        [True, True, False, True, True, False],
        [True, False, True, True, False, True],
    ]
    got = {}
    for a, affiliate in enumerate(data.affiliate_codes):
        columns = np.flatnonzero(data.assortment[a])
        customers = np.arange(data.n_customers)
        masks = kind_candidates(data, a, customers, columns)
        for c in customers:
            if data.customer_affiliate_counts()[c, a] > 0:
                got[(data.customer_ids[c], affiliate)] = {
                    kind: set(data.product_codes[columns[masks[kind][c]]]) for kind in KINDS
                }
    assert got == EXPECTED_CANDIDATES


@pytest.mark.parametrize("per_position", [0, 10**6], ids=["top-k of masked rows", "sorted candidates"])
def test_kind_lists_rank_exactly_the_candidates_of_each_unit(per_position, monkeypatch):
    monkeypatch.setattr(kinds, "SPARSE_CANDIDATES_PER_POSITION", per_position)
    data, _ = kinds_dataset()
    scores = np.tile(np.array([0.5, 0.1, 0.9, 0.5, 0.3, 0.2], dtype=np.float32), (data.n_customers, 1))
    lists = kind_lists(FixedScores(scores), data, n=10)
    listed = {
        key: {kind: set(rows.loc[rows["recommendation_kind"] == kind, "product_idx"]) for kind in KINDS}
        for key, rows in lists.groupby(["customer_idx", "affiliate_idx"])
    }
    expected = {
        (int(np.flatnonzero(data.customer_ids == c)[0]), int(np.flatnonzero(data.affiliate_codes == a)[0])): {
            kind: {int(p[1:]) for p in products} for kind, products in by_kind.items()
        }
        for (c, a), by_kind in EXPECTED_CANDIDATES.items()
    }
    assert listed == expected
    # C2 at A02, new_to_customer: P0 and P3 tie at 0.5 -> the lower product index first
    c2 = lists[(lists["customer_idx"] == 2) & (lists["recommendation_kind"] == "new_to_customer")]
    assert c2["product_idx"].tolist() == [0, 3] and c2["rank"].tolist() == [1, 2]
    top1 = kind_lists(FixedScores(scores), data, n=1)
    assert (top1["rank"] == 1).all() and len(top1) == sum(
        len(v) > 0 for k in EXPECTED_CANDIDATES.values() for v in k.values()
    )


def test_affiliate_truth_counts_a_product_where_it_was_bought():
    data, lines = kinds_dataset()
    truth = affiliate_truth_pairs(lines, data)
    assert set(truth.itertuples(index=False, name=None)) == {(0, 1, 0), (3, 4, 0), (1, 2, 0)}


# ---------------------------------------------------------------------------- evaluation
def _brute_force(scores, data, truth, ks=(5, 10, 20)) -> pd.DataFrame:
    """Per unit, in plain Python: rank the kind's candidates (score desc, product index asc),
    metrics as evaluation.py defines them, mean over units with ≥ 1 relevant candidate."""
    bought_at = {
        (c, a, p) for c, p, a in truth[["customer_idx", "product_idx", "affiliate_idx"]].itertuples(index=False)
    }
    lines = data.lines
    days = lines.assign(day=lines.purchased_at.dt.floor("D")).groupby(["customer_idx", "affiliate_idx", "product_idx"])
    n_days = days["day"].nunique().to_dict()
    anywhere = set(zip(lines.customer_idx, lines.product_idx))
    values: dict[tuple, list[float]] = {}
    for c, a in sorted(set(zip(lines.customer_idx, lines.affiliate_idx))):
        sold = np.flatnonzero(data.assortment[a])
        at = {p for p in sold if n_days.get((c, a, p), 0) > 0}
        candidates = {
            "new_to_customer": [p for p in sold if (c, p) not in anywhere],
            "new_at_affiliate": [p for p in sold if (c, p) in anywhere and p not in at],
            "replenishment": [p for p in sold if n_days.get((c, a, p), 0) >= 2],
        }
        for kind, cand in candidates.items():
            relevant = {p for p in cand if (c, a, p) in bought_at}
            if not relevant:
                continue
            ranked = sorted(cand, key=lambda p: (-scores[c, p], p))
            for k in ks:
                top = ranked[:k]
                hits = [p in relevant for p in top]
                ideal = max(min(len(relevant), k), 1)
                dcg = sum(h / math.log2(r + 2) for r, h in enumerate(hits))
                idcg = sum(1 / math.log2(r + 2) for r in range(ideal))
                for metric, v in (
                    ("hit_rate", float(any(hits))),
                    ("ndcg", dcg / idcg),
                    ("recall", sum(hits) / ideal),
                    ("precision", sum(hits) / k),
                ):
                    values.setdefault((kind, metric, k), []).append(v)
            negatives = [p for p in cand if p not in relevant]
            if negatives:
                pairs = [
                    1.0 if scores[c, p] > scores[c, q] else 0.5 if scores[c, p] == scores[c, q] else 0.0
                    for p in relevant
                    for q in negatives
                ]
                values.setdefault((kind, "auc", None), []).append(float(np.mean(pairs)))
    return pd.DataFrame(
        [(kind, metric, k, float(np.mean(v)), len(v)) for (kind, metric, k), v in values.items()],
        columns=["split", "metric", "k", "value", "n_customers"],
    )


@pytest.mark.parametrize("per_position", [0, 10**6], ids=["top-k of masked rows", "sorted candidates"])
def test_kind_evaluation_equals_a_brute_force_per_unit_reference(per_position, monkeypatch):
    monkeypatch.setattr(kinds, "SPARSE_CANDIDATES_PER_POSITION", per_position)  # both ways of ranking
    lines, customers, products, _ = make_raw_synthetic(n_customers=120, n_products=40, seed=5)
    data, truth = jobs.affiliate_split(CUT, dt.date(2021, 8, 29), lines, customers, products)
    rng = np.random.default_rng(0)
    scores = np.round(rng.random((data.n_customers, data.n_products)), 1).astype(np.float32)  # many ties
    got = evaluate_kinds([FixedScores(scores)], data, truth, batch_size=7)  # several batches
    expected = _brute_force(scores, data, truth)
    assert set(got["split"]) == set(KINDS)
    key = ["split", "metric", "k"]
    merged = got.merge(expected, on=key, how="outer", suffixes=("", "_expected"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    assert (merged["n_customers"] == merged["n_customers_expected"]).all()
    np.testing.assert_allclose(merged["value"], merged["value_expected"], rtol=1e-9, atol=1e-12)


# ---------------------------------------------------------------------------- calibration
def test_calibrator_reduces_the_ece_of_miscalibrated_scores():
    """Raw scores that over-state the purchase probability (p^0.3): the calibrator fitted on one
    half brings the other half's ECE from > 0.3 to < 0.02."""
    rng = np.random.default_rng(1)
    n = 40_000
    features = np.column_stack(
        [rng.random(n), np.log(rng.integers(1, 31, n)), np.log1p(rng.poisson(3.0, n)), np.log1p(rng.poisson(0.5, n))]
    )
    logit = -2.5 + 2.0 * features[:, 0] - 0.6 * features[:, 1] + 0.5 * features[:, 2] + 0.8 * features[:, 3]
    truth = 1.0 / (1.0 + np.exp(-logit))
    bought = rng.random(n) < truth
    raw = truth**0.3
    fit, test = slice(0, n // 2), slice(n // 2, n)
    calibrator = PurchaseCalibrator.fit(features[fit], bought[fit])
    before = expected_calibration_error(reliability_table(raw[test], bought[test]))
    after = expected_calibration_error(reliability_table(calibrator.predict(features[test]), bought[test]))
    assert before > 0.3 and after < 0.02
    assert calibrator.weights[0] > 0 and calibrator.weights[1] < 0 and calibrator.weights[3] > 0  # planted signs
    assert PurchaseCalibrator.from_rows(dict(calibrator.to_rows())) == calibrator


def test_calibrated_probability_never_rises_down_a_list():
    """Sign constraints: even when the data says a worse rank buys more, the fitted weight on
    the rank stays ≤ 0, so a unit's probabilities follow its list's order."""
    rng = np.random.default_rng(2)
    n = 5_000
    features = np.column_stack([rng.random(n), np.log(rng.integers(1, 31, n)), np.zeros(n), np.zeros(n)])
    bought = rng.random(n) < 0.05 + 0.2 * features[:, 1] / features[:, 1].max()  # rises with the rank
    calibrator = PurchaseCalibrator.fit(features, bought)
    assert calibrator.weights[1] == 0.0
    listed = np.column_stack([np.linspace(1.0, 0.1, 30), np.log(np.arange(1, 31)), np.ones(30), np.zeros(30)])
    assert (np.diff(calibrator.predict(listed)) <= 0).all()


def test_reliability_and_ece_by_hand():
    table = reliability_table(np.array([0.05, 0.05, 0.15, 0.95]), np.array([0, 1, 0, 1]))
    assert table["bin"].tolist() == [1, 2, 10] and table["n"].tolist() == [2, 1, 1]
    assert table["observed_rate"].tolist() == [0.5, 0.0, 1.0]
    assert expected_calibration_error(table) == pytest.approx((2 * 0.45 + 0.15 + 0.05) / 4)


# ---------------------------------------------------------------------------- champion
# the inner window is as long as the reported one (selection_end = calibration_end − W), as in the warehouse
SELECTION_END, CALIBRATION_END, OBSERVATION_END = dt.date(2021, 5, 1), dt.date(2021, 6, 30), dt.date(2021, 8, 29)


def _cheap_models():
    return [PopularityRecommender(), AffiliatePopularityRecommender(), PersonalFrequencyRecommender()]


def _champions(lines, customers, products, root):
    """The dbt flow: models fitted up to selection_end, kind splits on (selection_end,
    calibration_end], the best nDCG@10 per kind."""
    data, _ = jobs.split_at(SELECTION_END, CALIBRATION_END, lines, customers, products, preference=None)
    registry = jobs.store_models(_cheap_models(), data, "selection", root=root)
    metrics = jobs.evaluate_kind_splits(
        registry, lines, customers, products, SELECTION_END, CALIBRATION_END, split_prefix="selection_"
    )
    return jobs.choose_champions(metrics, [m.name for m in _cheap_models()]), metrics


def _reported(lines, customers, products, root):
    data, _ = jobs.split_at(CALIBRATION_END, OBSERVATION_END, lines, customers, products, preference=None)
    registry = jobs.store_models(_cheap_models(), data, "evaluation", root=root)
    return jobs.evaluate_kind_splits(registry, lines, customers, products, CALIBRATION_END, OBSERVATION_END)


def _ndcg10(metrics, split):
    rows = metrics[(metrics["metric"] == "ndcg") & (metrics["k"] == 10) & (metrics["split"] == split)]
    return rows.set_index("model_name")["value"]


def test_champion_is_chosen_on_the_inner_split_only(tmp_path):
    """Rewriting everything bought after calibration_end so that another model wins the reported
    split by far leaves the champions (and their selection figures) exactly as they were."""
    lines, customers, products, _ = make_raw_synthetic(n_customers=300, n_products=60, seed=11)
    champions, selection = _champions(lines, customers, products, tmp_path / "a")
    assert set(champions["recommendation_kind"]) == set(KINDS)
    kind = "new_to_customer"
    champion = champions.set_index("recommendation_kind").loc[kind, "model_name"]
    rival = _ndcg10(selection, f"selection_{kind}").idxmin()  # the model ranking least like the champion
    perturbed = _bought_what(rival, kind, lines, customers, products, tmp_path / "b")
    again, selection_again = _champions(perturbed, customers, products, tmp_path / "c")
    pd.testing.assert_frame_equal(again, champions)
    pd.testing.assert_frame_equal(selection_again, selection)
    # the perturbation is strong: on the reported split the rival now ranks first
    reported = _ndcg10(_reported(perturbed, customers, products, tmp_path / "d"), kind)
    assert reported.idxmax() == rival and reported[rival] > reported[champion] + 0.2


def _bought_what(model_name, kind, lines, customers, products, root) -> pd.DataFrame:
    """The lines up to calibration_end, then each unit buys the top product of ``model_name``'s
    ``kind`` list (fitted up to calibration_end) at that affiliate, and nothing else."""
    data, _ = jobs.split_at(CALIBRATION_END, OBSERVATION_END, lines, customers, products, preference=None)
    (model,) = [m for m in _cheap_models() if m.name == model_name]
    top = kind_lists(model.fit(data), data, n=1, kinds=(kind,))
    after = pd.DataFrame(
        {
            "customer_id": data.customer_ids[top["customer_idx"]],
            "product_code": data.product_codes[top["product_idx"]],
            "affiliate_code": data.affiliate_codes[top["affiliate_idx"].astype(np.int64)],
            "purchased_at": pd.Timestamp("2021-07-05 12:00"),
            "session_id": [f"after{i}" for i in range(len(top))],
            "quantity": 1,
            "amount": 1.0,
        }
    )
    before = lines[lines["purchased_at"] < pd.Timestamp(CALIBRATION_END) + pd.Timedelta(days=1)]
    return pd.concat([before, after], ignore_index=True)


def test_choose_champions_breaks_ties_by_the_documented_order():
    metrics = pd.DataFrame(
        {
            "model_name": ["als", "popularity", "als", "oracle"],
            "metric": "ndcg",
            "k": pd.array([10, 10, 10, 10], dtype="Int64"),
            "split": ["selection_replenishment", "selection_replenishment", "selection_new_to_customer", "x"],
            "value": [0.5, 0.5, 0.2, 0.9],
            "n_customers": 7,
        }
    )
    champions = jobs.choose_champions(metrics, ["popularity", "als"])
    assert champions.set_index("recommendation_kind")["model_name"].to_dict() == {
        "new_to_customer": "als",
        "replenishment": "popularity",
    }


def test_champion_rows_copy_the_champions_reported_figures():
    metrics = pd.DataFrame(
        {
            "model_name": ["als", "als", "popularity", "als"],
            "metric": ["ndcg", "ece", "ndcg", "ndcg"],
            "k": pd.array([10, None, 10, 10], dtype="Int64"),
            "split": ["replenishment", "replenishment", "replenishment", "new_items"],
            "value": [0.4, 0.01, 0.3, 0.2],
            "n_customers": 5,
        }
    )
    champions = pd.DataFrame({"recommendation_kind": ["replenishment"], "model_name": ["als"]})
    rows = jobs.champion_rows(metrics, champions)
    assert rows["model_name"].tolist() == ["champion", "champion"]
    assert rows["metric"].tolist() == ["ndcg", "ece"] and rows["value"].tolist() == [0.4, 0.01]


def test_calibrators_fitted_on_the_inner_split_lower_the_reported_ece(tmp_path):
    """Through the jobs the dbt models run: calibrators from the models fitted to selection_end,
    reliability of the models fitted to calibration_end; the calibrated ECE beats reading the
    raw score as a probability, and the published lists carry the probability."""
    lines, customers, products, _ = make_raw_synthetic(n_customers=300, n_products=60, seed=4)
    horizon = (OBSERVATION_END - CALIBRATION_END).days
    data, _ = jobs.split_at(SELECTION_END, CALIBRATION_END, lines, customers, products, preference=None)
    selection = jobs.store_models(_cheap_models(), data, "selection", root=tmp_path)
    calibrators = jobs.fit_calibrators(
        selection, lines, customers, products, SELECTION_END, CALIBRATION_END, horizon, n=10
    )
    assert set(calibrators["recommendation_kind"]) == set(KINDS)
    data, _ = jobs.split_at(CALIBRATION_END, OBSERVATION_END, lines, customers, products, preference=None)
    evaluation = jobs.store_models(_cheap_models(), data, "evaluation", root=tmp_path)
    tables = jobs.reliability(
        evaluation, calibrators, lines, customers, products, CALIBRATION_END, OBSERVATION_END, horizon, n=10
    )
    ece = jobs.ece_rows(tables).pivot_table(index=["model_name", "split"], columns="metric", values="value")
    assert (ece["ece"] < ece["ece_uncalibrated"]).all() and (ece["ece"] < 0.1).all(), ece
    recs = jobs.recommend(evaluation, data, n=10, calibrators=calibrators, horizon_days=horizon)
    assert recs["purchase_probability"].between(0, 1).all() and set(recs["recommendation_kind"]) == set(KINDS)
