"""The repurchase-timing models (loyalty_analytics.timing, docs/timing.md): unit tests on small
synthetic purchase days with planted intervals, exact figures of a hand-computed case, and the
issue's bar on a small generated L.Point dataset (the generator's API into a tmp folder, no dbt):
the pooled model beats both baselines on Brier at every horizon and on the date MAE."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from loyalty_analytics import timing
from loyalty_analytics.generator import generate
from loyalty_analytics.generator.writer import FILES
from loyalty_analytics.timing import evaluation, jobs
from loyalty_analytics.timing.baselines import MeanIntervalRule
from loyalty_analytics.timing.model import PooledTimingModel
from loyalty_analytics.timing.params import model_version

START = dt.date(2021, 1, 1)
CUT, END = dt.date(2021, 9, 30), dt.date(2021, 12, 31)
HORIZONS = (7, 14, 30)


def _days(customers, items, day_numbers, categories=None) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "customer_id": np.asarray(customers).astype(str),
            "item_id": np.asarray(items).astype(str),
            "purchase_date": pd.Timestamp(START) + pd.to_timedelta(np.asarray(day_numbers), unit="D"),
        }
    )
    if categories is not None:
        frame["category"] = np.asarray(categories).astype(str)
    return frame


def _renewal_days(rng, n_customers, item_means, shape, n_items_per_customer, spread=0.3, horizon=365):
    """Each customer buys a few items; a pair's intervals are Gamma(shape) with mean = the item's
    mean × a customer multiplier (lognormal, sd ``spread``), from a random start. Returns the
    purchase days and each pair's true mean interval."""
    rows, truth = [], []
    for_customer = rng.lognormal(0.0, spread, n_customers)
    n_events = int(horizon / min(item_means) * 3) + 2
    customers = np.repeat(np.arange(n_customers), n_items_per_customer)
    items = np.concatenate(
        [rng.choice(len(item_means), n_items_per_customer, replace=False) for _ in range(n_customers)]
    )
    mean = np.asarray(item_means)[items] * for_customer[customers]
    gaps = rng.gamma(shape, mean[:, None] / shape, (len(items), n_events))
    starts = rng.uniform(0, mean)
    times = np.floor(starts[:, None] + np.cumsum(gaps, axis=1) - gaps[:, :1])
    pair, event = np.nonzero(times < horizon)
    rows = _days(customers[pair], items[pair], times[pair, event], categories=np.full(len(pair), "all"))
    truth = pd.DataFrame({"customer_id": customers.astype(str), "item_id": items.astype(str), "true_mean": mean})
    return rows.drop_duplicates(["customer_id", "item_id", "purchase_date"]), truth


def _scored(model_predictions, days):
    return evaluation.with_outcomes(model_predictions, days, CUT, END)


def _metric(rows, metric, k=None):
    return {r[1:3]: r[4] for r in rows}[(metric, k)]


# ---------------------------------------------------------------- synthetic frames
def test_recovers_a_planted_cycle():
    """Nearly periodic purchases (items every 7 and 30 days, CV 0.1): the usual interval is the
    cycle and a pair not yet due is expected one cycle after its last purchase."""
    rng = np.random.default_rng(1)
    days, _ = _renewal_days(rng, 300, [7.0, 30.0], shape=100.0, n_items_per_customer=2, spread=0.0)
    predicted = PooledTimingModel().fit(days, CUT).predict(days, CUT)
    usual = predicted.groupby("item_id")["expected_interval_days"].median()
    assert usual["0"] == pytest.approx(7.0, rel=0.1) and usual["1"] == pytest.approx(30.0, rel=0.1)
    slow = predicted.loc[(predicted["item_id"] == "1") & (predicted["days_overdue"] == 0)]
    since_last = (pd.Timestamp(CUT) - pd.to_datetime(slow["last_purchase_date"])).dt.days
    due = pd.to_datetime(slow["expected_next_date"]) - pd.to_datetime(slow["last_purchase_date"])
    assert len(slow) > 100
    assert np.median(np.abs(due.dt.days - 30)) <= 2
    # a pair bought a few days ago is unlikely to buy within 7 days; one due within the week is likely
    p7 = slow["p_buy_7d"].to_numpy()
    assert p7[since_last.to_numpy() <= 10].mean() < 0.1 < 0.5 < p7[since_last.to_numpy() >= 24].mean()


def test_pooled_beats_the_mean_interval_rule_on_sparse_pairs():
    """Pairs with 2–3 purchase days: their own mean interval is noise; the pooled model shrinks it
    toward the item's and customer's level, so its usual interval is nearer the planted one and
    its probabilities and dates beat the mean-interval rule on the window after the cut."""
    rng = np.random.default_rng(2)
    days, truth = _renewal_days(rng, 600, [8.0, 15.0, 30.0, 60.0, 90.0, 120.0], shape=2.0, n_items_per_customer=3)
    pooled = PooledTimingModel().fit(days, CUT).predict(days, CUT)
    rule = MeanIntervalRule().predict(days, CUT)
    sparse = pooled["n_purchase_days"].between(2, 3).to_numpy()
    assert sparse.sum() > 300 and (rule["n_purchase_days"].to_numpy() == pooled["n_purchase_days"].to_numpy()).all()
    true_mean = pooled.merge(truth, on=["customer_id", "item_id"])["true_mean"].to_numpy()
    true_median = true_mean * 1.6783 / 2.0  # median of Gamma(2, 1) / its mean
    pooled_error = np.abs(np.log(pooled["expected_interval_days"].to_numpy() / true_median))[sparse]
    rule_error = np.abs(np.log(rule["expected_interval_days"].to_numpy() / true_mean))[sparse]
    assert pooled_error.mean() < 0.8 * rule_error.mean()
    pooled_rows = evaluation.model_rows("pooled", _scored(pooled[sparse], days), CUT, "s", HORIZONS)
    rule_rows = evaluation.model_rows("rule", _scored(rule[sparse], days), CUT, "s", HORIZONS)
    for h in HORIZONS:
        assert _metric(pooled_rows, "brier", h) < _metric(rule_rows, "brier", h), h
    assert _metric(pooled_rows, "mae_days") < _metric(rule_rows, "mae_days")


def test_probabilities_are_monotone_in_the_horizon():
    rng = np.random.default_rng(3)
    days, _ = _renewal_days(rng, 200, [5.0, 20.0, 80.0], shape=1.0, n_items_per_customer=2)
    for predicted in (PooledTimingModel().fit(days, CUT).predict(days, CUT), MeanIntervalRule().predict(days, CUT)):
        p = predicted[["p_buy_7d", "p_buy_14d", "p_buy_30d"]].to_numpy()
        assert ((p >= 0) & (p <= 1)).all()
        assert (np.diff(p, axis=1) >= 0).all()
        assert (np.diff(p, axis=1) > 0).mean() > 0.99  # strictly more time, strictly more chance


def test_outputs_do_not_depend_on_row_order_or_repeated_rows():
    rng = np.random.default_rng(4)
    days, _ = _renewal_days(rng, 150, [6.0, 25.0], shape=1.5, n_items_per_customer=2)
    shuffled = pd.concat([days, days.iloc[::7]]).sample(frac=1.0, random_state=0)  # also repeated rows
    first, second = PooledTimingModel().fit(days, CUT), PooledTimingModel().fit(shuffled, CUT)
    pd.testing.assert_frame_equal(first.predict(days, CUT), second.predict(shuffled, CUT))
    assert model_version(first.to_params()) == model_version(second.to_params().iloc[::-1])


def test_stored_parameters_give_the_same_predictions():
    rng = np.random.default_rng(5)
    days, _ = _renewal_days(rng, 150, [6.0, 25.0], shape=1.5, n_items_per_customer=2)
    fitted = PooledTimingModel(lapse=True).fit(days, CUT)
    restored = PooledTimingModel.from_params(fitted.to_params().sample(frac=1.0, random_state=1))
    assert restored.get_params() == fitted.get_params()
    pd.testing.assert_frame_equal(restored.predict(days, CUT), fitted.predict(days, CUT))


def test_hand_computed_tiny_case():
    """One pair bought on days 0, 10 and 20, cut on day 30. Model fixed by hand: Weibull shape
    c = 1, frailty shape α = 2, scale e^θ = 10 days (β = α·e^θ = 20), no lapse, no P(alive), no
    customer effect. Then B = β + E₀ = 20 + 20 = 40, α + n = 4, silence t = 10:
    P(buy within h) = 1 − (50/(50+h))^4; usual interval = 40·(2^(1/4) − 1) = 7.568 days, so the
    rhythm date is day 28 (2 days overdue); next date: (50/(50+r))^4 = 1 − ½·P(within 92 days)
    gives r = 9.234 days → day 39. The mean-interval rule: 1 − e^(−h/10), next date day 30."""
    model = PooledTimingModel(customer_effect=False, lapse=False, use_p_alive=False, window_days=92)
    model.shape_ = {"weibull_shape": 1.0, "frailty_shape": 2.0, "lapse_a": 0.0, "lapse_b": 1.0}
    model.global_effect_ = np.log(10.0)
    model.category_effects_ = model.item_effects_ = model.item_categories_ = pd.Series(dtype=float)
    model.precisions_ = {"category": 1.0, "item": 1.0, "customer": 1.0}
    model.alive_ = {}
    days = _days(["c"] * 3, ["i"] * 3, [0, 10, 20])
    cut = START + dt.timedelta(days=30)
    row = model.predict(days, cut).iloc[0]
    assert [row[f"p_buy_{h}d"] for h in HORIZONS] == pytest.approx([0.40791972, 0.62747097, 0.84741211], abs=1e-7)
    assert row["expected_interval_days"] == pytest.approx(7.5682846, abs=1e-6)
    assert row["days_overdue"] == 2 and row["mean_interval_days"] == 10.0 and row["n_purchase_days"] == 3
    assert pd.Timestamp(row["expected_next_date"]).date() == START + dt.timedelta(days=39)
    assert pd.Timestamp(row["last_purchase_date"]).date() == START + dt.timedelta(days=20)
    rule = MeanIntervalRule().predict(days, cut).iloc[0]
    assert [rule[f"p_buy_{h}d"] for h in HORIZONS] == pytest.approx([1 - np.exp(-h / 10) for h in HORIZONS])
    assert pd.Timestamp(rule["expected_next_date"]).date() == cut and rule["days_overdue"] == 0


def test_calibration_error_uses_ten_equal_width_bins():
    p = np.array([0.05, 0.08, 0.15, 0.95, 1.0])
    y = np.array([0, 1, 1, 1, 1])
    # bins [0, .1): |0.13 − 1|; [.1, .2): |0.15 − 1|; [.9, 1] (1.0 included): |1.95 − 2|; over n = 5
    assert evaluation.expected_calibration_error(p, y) == pytest.approx((0.87 + 0.85 + 0.05) / 5)


# ---------------------------------------------------------------- generated data
@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """~800 generated L.Point customers straight from the generator (no dbt): purchase days at
    the product and major-category level as int_timing_purchase_days has them."""
    root = tmp_path_factory.mktemp("timing")
    generate(800, 11, root / "raw", root / "truth")
    lines = pd.read_csv(root / "raw" / FILES["pdde"][0], usecols=["cust", "pd_c", "de_dt"], dtype=str)
    products = pd.read_csv(root / "raw" / FILES["pd_clac"][0], dtype=str).set_index("pd_c")["clac_hlv_nm"]
    date = pd.to_datetime(lines["de_dt"], format="%Y%m%d")
    product = pd.DataFrame(
        {
            "item_level": "product",
            "customer_id": lines["cust"],
            "item_id": lines["pd_c"],
            "category": products.reindex(lines["pd_c"]).to_numpy(),
            "purchase_date": date,
        }
    )
    category = product.assign(item_level="category", item_id=product["category"], category="")
    days = pd.concat([product, category]).drop_duplicates(["item_level", "customer_id", "item_id", "purchase_date"])
    settings = {
        "selection_end": dt.date(2021, 6, 30),
        "calibration_end": CUT,
        "observation_end": END,
        "random_seed": 42,
    }
    params = jobs.fit_params(days, settings)
    calibration = jobs.apply_params(days, params, settings, "calibration_end")
    metrics = jobs.evaluate(days, calibration, params, settings, root / "truth")
    return {"days": days, "settings": settings, "params": params, "metrics": metrics, "root": root}


def _value(metrics: pd.DataFrame, split: str, metric: str, model_name: str, k=None) -> float:
    rows = metrics.loc[
        (metrics["split"] == split) & (metrics["metric"] == metric) & (metrics["model_name"] == model_name)
    ]
    rows = rows.loc[rows["k"].isna()] if k is None else rows.loc[rows["k"] == k]
    assert len(rows) == 1, (split, metric, model_name, k)
    return float(rows["value"].iloc[0])


def test_pooled_beats_both_baselines_on_generated_data(generated):
    metrics = generated["metrics"]
    baselines = (timing.GBMIntervalModel.name, timing.MeanIntervalRule.name)
    for level in ("product", "category"):
        for h in HORIZONS:
            pooled = _value(metrics, level, "brier", timing.MODEL_NAME, h)
            assert all(pooled < _value(metrics, level, "brier", name, h) for name in baselines), (level, h)
        pooled = _value(metrics, level, "mae_days", timing.MODEL_NAME)
        assert all(pooled < _value(metrics, level, "mae_days", name) for name in baselines), level
        assert _value(metrics, level, "ece", timing.MODEL_NAME, 30) < 0.05


def test_generated_metrics_cover_every_model_and_the_planted_cycles(generated):
    metrics = generated["metrics"]
    planted = metrics.loc[metrics["split"] == "product_vs_planted_cycle"]
    assert set(planted["model_name"]) == {timing.MODEL_NAME, timing.GBMIntervalModel.name, timing.MeanIntervalRule.name}
    assert set(metrics.loc[metrics["split"] == "product_inner", "metric"]) >= {"chosen_candidate"}
    keys = metrics[["model_name", "metric", "k", "split"]].astype(str)
    assert not keys.duplicated().any()
    # another generator run's truth does not belong to this data: no planted-cycle rows
    other = generated["root"] / "other"
    generate(30, 12, other / "raw", other / "truth")
    assert jobs._planted_cycles(generated["days"], other / "truth") is None


def test_published_and_calibration_predictions_have_the_mart_columns(generated):
    days, params, settings = generated["days"], generated["params"], generated["settings"]
    published = jobs.apply_params(days, params, settings, "observation_end")
    assert list(published.columns) == jobs.OUTPUT_COLUMNS
    assert set(published["item_level"]) == {"product", "category"}
    assert not published.duplicated(["customer_id", "item_level", "item_id"]).any()
    assert (published["n_purchase_days"] >= 2).all()
    assert (pd.to_datetime(published["expected_next_date"]) > pd.Timestamp(END)).all()
    assert published.groupby("item_level")["model_version"].nunique().eq(1).all()


# ---------------------------------------------------------------- the dbt build (session fixtures)
def _build_query(layout, sql: str) -> pd.DataFrame:
    from conftest import connect

    con = connect(layout)
    try:
        return con.sql(sql).df()
    finally:
        con.close()


@pytest.mark.slow
def test_repurchase_timing_mart_in_the_lpoint_build(lpoint_build):
    """The mart and the calibration table as dbt builds them: dates relative to their cut, the
    rhythm behind days_overdue, and model_metrics with the pooled model ahead of both baselines."""
    mart = _build_query(lpoint_build, "select * from marts.repurchase_timing")
    dates = _build_query(lpoint_build, "select * from intermediate.int_run_parameters").iloc[0]
    assert set(mart["item_level"]) == {"product", "category"} and set(mart["model_name"]) == {timing.MODEL_NAME}
    observation_end = pd.Timestamp(dates["observation_end"])
    assert (pd.to_datetime(mart["last_purchase_date"]) <= observation_end).all()
    assert (pd.to_datetime(mart["expected_next_date"]) > observation_end).all()
    rhythm = pd.to_datetime(mart["last_purchase_date"]) + pd.to_timedelta(
        np.maximum(1, np.rint(mart["expected_interval_days"])), unit="D"
    )
    assert (mart["days_overdue"] == np.maximum((observation_end - rhythm).dt.days, 0)).all()
    calibration = _build_query(lpoint_build, "select * from intermediate.int_repurchase_timing_calibration")
    calibration_end = pd.Timestamp(dates["calibration_end"])
    assert (pd.to_datetime(calibration["last_purchase_date"]) <= calibration_end).all()
    assert (pd.to_datetime(calibration["expected_next_date"]) > calibration_end).all()
    assert len(calibration) < len(mart)  # fewer pairs are bought twice by the earlier cut
    metrics = _build_query(lpoint_build, "select * from marts.model_metrics where model_name like 'timing_%'")
    for h in HORIZONS:
        assert _value(metrics, "product", "brier", timing.MODEL_NAME, h) < min(
            _value(metrics, "product", "brier", name, h)
            for name in (timing.GBMIntervalModel.name, timing.MeanIntervalRule.name)
        )


@pytest.mark.slow
def test_no_timing_without_products(cdnow_sample_build):
    """CDNOW has no products: no timing mart, no timing rows in model_metrics."""
    tables = _build_query(cdnow_sample_build, "select table_name from information_schema.tables")["table_name"]
    assert not {"repurchase_timing", "int_timing_params", "int_timing_metrics"} & set(tables)
    metrics = _build_query(cdnow_sample_build, "select model_name from marts.model_metrics")["model_name"]
    assert not metrics.str.startswith("timing_").any()
