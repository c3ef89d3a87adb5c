"""Properties of the marts on a generated L.Point warehouse (the session fixture built by
the same pipeline as `make demo`)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import connect

from loyalty_analytics import paths

pytestmark = pytest.mark.slow
ENOUGH_PAIRS = 50


def _query(layout, sql: str) -> pd.DataFrame:
    con = connect(layout)
    try:
        return con.sql(sql).df()
    finally:
        con.close()


def test_preference_backtest_rises_with_threshold(lpoint_build):
    table = _query(lpoint_build, "select * from marts.preference_score_backtest order by affiliate_code, threshold")
    for affiliate, rows in table.groupby("affiliate_code"):
        rows = rows[rows["n_pairs"] >= ENOUGH_PAIRS]
        rates = rows["repurchase_rate"].to_numpy()
        assert (rates[1:] >= rates[:-1] - 0.01).all(), f"{affiliate}: {rates}"
        top = rows[rows["threshold"] == 4.5]
        if len(top):
            base = rows.loc[rows["threshold"] == 0.0, "repurchase_rate"].item()
            assert top["repurchase_rate"].item() >= 3 * base, f"{affiliate}: {top['repurchase_rate'].item()} vs {base}"


KINDS = ("new_to_customer", "new_at_affiliate", "replenishment")
# what each kind requires of a listed (customer, affiliate, product): days bought there, bought anywhere
KIND_RULE = """case recommendation_kind
    when 'new_to_customer' then not bought_anywhere
    when 'new_at_affiliate' then bought_anywhere and days_there = 0
    when 'replenishment' then days_there >= 2 end"""


def _history(cut: str) -> str:
    """SQL of what each customer bought up to ``cut`` (a SQL date expression): per customer,
    affiliate and product the distinct days (there), whether bought anywhere, and the assortment."""
    return f"""
        there as (
            select customer_id, affiliate_code, product_code, count(distinct purchase_date) as days_there
            from intermediate.int_session_lines
            where purchase_date <= {cut} and product_code is not null group by all),
        anywhere as (select distinct customer_id, product_code from there),
        assortment as (select distinct affiliate_code, product_code from there),
        units as (select distinct customer_id, affiliate_code from there)"""


def _kind_violations(layout, relation: str, cut: str) -> pd.DataFrame:
    return _query(
        layout,
        f"""
        with {_history(cut)},
        checked as (
            select r.recommendation_kind, coalesce(t.days_there, 0) as days_there,
                   a.customer_id is not null as bought_anywhere,
                   s.product_code is not null as sold_there, u.customer_id is not null as is_unit
            from {relation} as r
            left join there as t using (customer_id, affiliate_code, product_code)
            left join anywhere as a using (customer_id, product_code)
            left join assortment as s using (affiliate_code, product_code)
            left join units as u using (customer_id, affiliate_code))
        select recommendation_kind, count(*) as n,
               count(*) filter (where not ({KIND_RULE}) or not sold_there or not is_unit) as wrong
        from checked group by all""",
    )


def test_every_recommendation_matches_its_kind(lpoint_build):
    """Each listed product is of its kind given the history up to observation_end, sold at the
    affiliate, for a customer who shops there; published lists and the calibration-time
    champion lists (history up to calibration_end) alike."""
    for relation, cut in (
        ("marts.product_recommendations", "(select observation_end from intermediate.int_run_parameters)"),
        (
            "intermediate.int_champion_recommendations_calibration",
            "(select calibration_end from intermediate.int_run_parameters)",
        ),
    ):
        checked = _kind_violations(lpoint_build, relation, cut).set_index("recommendation_kind")
        assert set(checked.index) == set(KINDS), relation
        assert (checked["wrong"] == 0).all(), (relation, checked)


def test_small_kinds_list_every_candidate_up_to_n(lpoint_build):
    """new_at_affiliate and replenishment have few candidates per unit: every model lists
    min(N, candidates) of them for every unit that has any."""
    got = _query(
        lpoint_build,
        f"""
        with {_history("(select observation_end from intermediate.int_run_parameters)")},
        candidates as (
            select u.customer_id, u.affiliate_code, 'replenishment' as recommendation_kind, count(*) as n
            from units u join there t using (customer_id, affiliate_code) where t.days_there >= 2 group by all
            union all
            select u.customer_id, u.affiliate_code, 'new_at_affiliate', count(*)
            from units u join assortment s using (affiliate_code) join anywhere a using (customer_id, product_code)
            left join there t using (customer_id, affiliate_code, product_code)
            where t.customer_id is null group by all),
        models as (select distinct model_name from marts.product_recommendations),
        listed as (
            select customer_id, affiliate_code, recommendation_kind, model_name, count(*) as n
            from marts.product_recommendations where recommendation_kind <> 'new_to_customer' group by all)
        select c.recommendation_kind, count(*) as units,
               count(*) filter (where coalesce(l.n, 0) <> least(c.n, p.recommendations_per_affiliate)) as wrong
        from candidates c cross join models m cross join intermediate.int_run_parameters p
        left join listed l using (customer_id, affiliate_code, recommendation_kind, model_name)
        group by all""",
    ).set_index("recommendation_kind")
    assert (got["units"] > 0).all() and (got["wrong"] == 0).all(), got


def test_every_customer_with_a_purchase_is_segmented_and_valued(lpoint_build):
    counts = _query(
        lpoint_build,
        """
        select (select count(*) from marts.customer_rfm) as rfm,
               (select count(*) from marts.customer_segments) as segments,
               (select count(*) from marts.customer_clv) as clv,
               (select count(*) from marts.customer_360 where tier is null or segment_id is null) as missing""",
    )
    row = counts.iloc[0]
    assert row["rfm"] == row["segments"] == row["clv"] > 0
    assert row["missing"] == 0


def test_model_metrics_hold_every_evaluation(lpoint_build):
    metrics = _query(lpoint_build, "select * from marts.model_metrics")
    splits = set(metrics["split"])
    assert {"all_items", "new_items", "new_items_sparse", "holdout", "truth"} <= splits
    assert set(KINDS) | {f"selection_{kind}" for kind in KINDS} <= splits
    models = set(metrics["model_name"])
    assert {
        "popularity",
        "personal_frequency",
        "als",
        "cooccurrence",
        "oracle",
        "preference_nn",
        "clv_bgnbd",
        "clv_naive_past_rate",
        "kmeans_seed001_features",
    } <= models
    ndcg = metrics[(metrics["metric"] == "ndcg") & (metrics["k"] == 10)].set_index(["model_name", "split"])["value"]
    # the oracle ranks by the true purchase probabilities: nothing may beat it by much
    for split in ("all_items", "new_items", "new_to_customer"):
        assert ndcg[("oracle", split)] >= ndcg.xs(split, level="split").drop("oracle").max() - 0.02
    # the purchase probability is calibrated on the reported split, far better than a raw score read as one
    # (the repurchase-timing models report an ece per horizon too: their splits are not kinds)
    recommendation_rows = ~metrics["model_name"].str.startswith("timing_")
    ece = metrics[metrics["metric"].str.startswith("ece") & recommendation_rows].pivot_table(
        index=["model_name", "split"], columns="metric", values="value"
    )
    assert set(ece.index.get_level_values("split")) == set(KINDS)
    assert (ece["ece"] < 0.1).all() and (ece["ece"] < ece["ece_uncalibrated"]).all(), ece


def test_champions_are_chosen_on_the_inner_split(lpoint_build):
    champions = _query(lpoint_build, "select * from marts.recommendation_champions").set_index("recommendation_kind")
    metrics = _query(lpoint_build, "select * from intermediate.int_recommender_metrics")
    ndcg = metrics[(metrics["metric"] == "ndcg") & (metrics["k"] == 10)]
    assert set(champions.index) == set(KINDS)
    for kind, champion in champions.iterrows():
        inner = ndcg[ndcg["split"] == f"selection_{kind}"].set_index("model_name")
        assert (
            champion["model_name"] == inner["value"].idxmax() and champion["selection_ndcg_10"] == inner["value"].max()
        )
        reported = ndcg[ndcg["split"] == kind].set_index("model_name")["value"]
        assert reported["champion"] == reported[champion["model_name"]] == champion["reported_ndcg_10"]
        assert champion["reported_best_ndcg_10"] == reported.drop(["champion", "oracle"]).max()
    # the inner split's truth window is (selection_end, calibration_end]: its replenishment units, counted in SQL
    units = _query(
        lpoint_build,
        f"""
        with params as (select * from intermediate.int_run_parameters),
        {_history("(select selection_end from params)")},
        after as (
            select distinct customer_id, affiliate_code, product_code from intermediate.int_session_lines
            where purchase_date > (select selection_end from params)
              and purchase_date <= (select calibration_end from params))
        select count(distinct (customer_id, affiliate_code)) as n
        from there join after using (customer_id, affiliate_code, product_code) where days_there >= 2""",
    )["n"].item()
    assert champions.loc["replenishment", "selection_n_units"] == units
    # BI's default mart is exactly the champions' rows of product_recommendations
    counts = _query(
        lpoint_build,
        """select (select count(*) from marts.champion_recommendations) as champion_rows,
                  (select count(*) from marts.product_recommendations where is_champion) as flagged,
                  (select count(*) from marts.champion_recommendations c join marts.recommendation_champions m
                     using (recommendation_kind, model_name)) as of_the_champion""",
    ).iloc[0]
    assert counts["champion_rows"] == counts["flagged"] == counts["of_the_champion"] > 0


def test_reliability_table_adds_up_to_the_ece(lpoint_build):
    table = _query(lpoint_build, "select * from marts.recommendation_calibration")
    ece = _query(lpoint_build, "select model_name, split, value from marts.model_metrics where metric = 'ece'")
    by_key = ece.set_index(["model_name", "split"])["value"]
    for (model, kind), bins in table.groupby(["model_name", "recommendation_kind"]):
        gap = (bins["n"] * (bins["mean_probability"] - bins["observed_rate"]).abs()).sum() / bins["n"].sum()
        assert gap == pytest.approx(by_key[(model, kind)], abs=1e-9)
        assert ((bins["mean_probability"] >= bins["bin_lower"]) & (bins["mean_probability"] <= bins["bin_upper"])).all()


def test_model_registry_lists_every_stored_model(lpoint_build):
    registry = _query(lpoint_build, "select * from marts.model_registry")
    stored = {(meta["model_name"], meta["version"], str(folder)) for folder, meta in _stored_artifacts(lpoint_build)}
    recommenders = registry[registry["model_kind"] == "recommender"]
    assert set(zip(recommenders["model_name"], recommenders["version"], recommenders["artifact_path"])) == stored
    evaluation = recommenders[recommenders["used_for"] == "evaluation"]
    assert set(evaluation["model_name"]) == {
        "popularity",
        "popularity_affiliate",
        "personal_frequency",
        "als",
        "cooccurrence",
        "tifu_knn",
        "preference_nn",
        "sequential_gru",
    }
    selection = recommenders[recommenders["used_for"] == "selection"]
    assert set(selection["model_name"]) == set(evaluation["model_name"])
    published = recommenders[recommenders["used_for"] == "published"]
    champions = _query(lpoint_build, "select model_name from marts.recommendation_champions")
    assert set(published["model_name"]) == set(champions["model_name"]) | {"preference_nn"}
    run = _query(
        lpoint_build, "select selection_end, calibration_end, observation_end from intermediate.int_run_parameters"
    ).iloc[0]
    assert run["selection_end"] == run["calibration_end"] - (run["observation_end"] - run["calibration_end"])
    assert (pd.to_datetime(selection["cut_date"]) == pd.Timestamp(run["selection_end"])).all()
    assert (pd.to_datetime(evaluation["cut_date"]) == pd.Timestamp(run["calibration_end"])).all()
    assert (pd.to_datetime(published["cut_date"]) == pd.Timestamp(run["observation_end"])).all()
    used = _query(lpoint_build, "select distinct model_name, model_version from marts.product_recommendations")
    assert set(zip(used["model_name"], used["model_version"])) == set(
        zip(published["model_name"], published["version"])
    )
    # CLV and segmentation models are listed with where their parameters and metrics live
    assert {"bgnbd", "gamma_gamma"} <= set(registry.loc[registry["model_kind"] == "clv", "model_name"])
    segmentation = _query(lpoint_build, "select distinct model_name from intermediate.int_segmentation_metrics")
    assert set(registry.loc[registry["model_kind"] == "segmentation", "model_name"]) == set(segmentation["model_name"])
    for location in registry["metrics_location"].dropna():
        assert len(_query(lpoint_build, f"select * from {location}")) > 0, location


def _stored_artifacts(layout) -> list[tuple[Path, dict]]:
    """(folder, metadata) of every artifact in the build's models folder."""
    files = sorted((layout.data_dir / "models").glob("*/*/metadata.json"))
    return [(path.parent, json.loads(path.read_text())) for path in files]


def _snapshot(layout) -> dict[str, pd.DataFrame]:
    return {
        "product_recommendations": _query(
            layout,
            "select * exclude (generated_at) from marts.product_recommendations "
            "order by customer_id, affiliate_code, model_name, recommendation_kind, rank",
        ),
        "champion_recommendations": _query(
            layout,
            "select * exclude (generated_at) from marts.champion_recommendations "
            "order by customer_id, affiliate_code, recommendation_kind, rank",
        ),
        "customer_segments": _query(layout, "select * from marts.customer_segments order by customer_id"),
        "customer_clv": _query(layout, "select * from marts.customer_clv order by customer_id"),
        "stamp_mission": _query(
            layout,
            "select * exclude (generated_at) from marts.stamp_mission "
            "order by customer_id, category_rank, product_rank",
        ),
    }


def test_rebuilding_with_the_same_seed_gives_identical_marts(lpoint_build):
    before = _snapshot(lpoint_build)
    published = _query(lpoint_build, "select artifact_path, version from intermediate.int_recommender_models")
    for folder in published["artifact_path"]:  # the published models are fitted again, not reused
        shutil.rmtree(folder)
    env = lpoint_build.env()
    command = [
        str(Path(sys.executable).parent / "dbt"),
        "run",
        *lpoint_build.dbt_args(),
        "--vars",
        json.dumps({"dataset": "lpoint"}),
        "--select",
        "int_clv_params+ int_segmentation_params+ int_recommender_models+",
    ]
    subprocess.run(command, env=env, check=True, cwd=paths.PROJECT_ROOT)
    after = _snapshot(lpoint_build)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], check_exact=True, obj=name)
    refitted = _query(lpoint_build, "select artifact_path, version from intermediate.int_recommender_models")
    pd.testing.assert_frame_equal(refitted, published)  # same inputs, same version
    assert all(Path(folder, "metadata.json").is_file() for folder in refitted["artifact_path"])
