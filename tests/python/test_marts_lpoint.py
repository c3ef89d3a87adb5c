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


def test_no_recommended_product_was_already_bought_at_that_affiliate(lpoint_build):
    already = _query(
        lpoint_build,
        """
        select count(*) as n from marts.product_recommendations r
        join intermediate.int_purchase_lines l
          on l.customer_id = r.customer_id and l.affiliate_code = r.affiliate_code and l.product_code = r.product_code
        where l.purchase_date <= (select observation_end from intermediate.int_run_parameters)""",
    )
    assert already["n"].item() == 0
    counts = _query(lpoint_build, "select model_name, count(*) as n from marts.product_recommendations group by 1")
    assert len(counts) == 2 and (counts["n"] > 0).all()


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
    for split in ("all_items", "new_items"):
        assert ndcg[("oracle", split)] >= ndcg.xs(split, level="split").drop("oracle").max() - 0.02


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
    published = recommenders[recommenders["used_for"] == "published"]
    assert set(published["model_name"]) == {"preference_nn", "sequential_gru"}
    run = _query(lpoint_build, "select calibration_end, observation_end from intermediate.int_run_parameters").iloc[0]
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
            "order by customer_id, affiliate_code, model_name, rank",
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
