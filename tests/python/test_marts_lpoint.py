"""Properties of the marts on a generated L.Point warehouse (the session fixture built by
the same pipeline as `make demo`)."""

from __future__ import annotations

import json
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
    already = _query(lpoint_build, """
        select count(*) as n from marts.product_recommendations r
        join intermediate.int_purchase_lines l
          on l.customer_id = r.customer_id and l.affiliate_code = r.affiliate_code and l.product_code = r.product_code
        where l.purchase_date <= (select observation_end from intermediate.int_run_parameters)""")
    assert already["n"].item() == 0
    counts = _query(lpoint_build, "select model_name, count(*) as n from marts.product_recommendations group by 1")
    assert len(counts) == 2 and (counts["n"] > 0).all()


def test_every_customer_with_a_purchase_is_segmented_and_valued(lpoint_build):
    counts = _query(lpoint_build, """
        select (select count(*) from marts.customer_rfm) as rfm,
               (select count(*) from marts.customer_segments) as segments,
               (select count(*) from marts.customer_clv) as clv,
               (select count(*) from marts.customer_360 where tier is null or segment_id is null) as missing""")
    row = counts.iloc[0]
    assert row["rfm"] == row["segments"] == row["clv"] > 0
    assert row["missing"] == 0


def test_model_metrics_hold_every_evaluation(lpoint_build):
    metrics = _query(lpoint_build, "select * from marts.model_metrics")
    splits = set(metrics["split"])
    assert {"all_items", "new_items", "new_items_sparse", "holdout", "truth"} <= splits
    models = set(metrics["model_name"])
    assert {"popularity", "personal_frequency", "als", "cooccurrence", "oracle", "preference_nn",
            "clv_bgnbd", "clv_naive_past_rate", "kmeans_seed001_features"} <= models
    ndcg = metrics[(metrics["metric"] == "ndcg") & (metrics["k"] == 10)].set_index(["model_name", "split"])["value"]
    # the oracle ranks by the true purchase probabilities: nothing may beat it by much
    for split in ("all_items", "new_items"):
        assert ndcg[("oracle", split)] >= ndcg.xs(split, level="split").drop("oracle").max() - 0.02


def _snapshot(layout) -> dict[str, pd.DataFrame]:
    return {
        "product_recommendations": _query(layout, "select * exclude (generated_at) from marts.product_recommendations "
                                                  "order by customer_id, affiliate_code, model_name, rank"),
        "customer_segments": _query(layout, "select * from marts.customer_segments order by customer_id"),
        "customer_clv": _query(layout, "select * from marts.customer_clv order by customer_id"),
        "stamp_mission": _query(layout, "select * exclude (generated_at) from marts.stamp_mission "
                                        "order by customer_id, category_rank, product_rank"),
    }


def test_rebuilding_with_the_same_seed_gives_identical_marts(lpoint_build):
    before = _snapshot(lpoint_build)
    env = lpoint_build.env()
    command = [str(Path(sys.executable).parent / "dbt"), "run", *lpoint_build.dbt_args(),
               "--vars", json.dumps({"dataset": "lpoint"}),
               "--select", "int_clv_params+ int_segments+ int_recommendations+ int_stamp_mission+"]
    subprocess.run(command, env=env, check=True, cwd=paths.PROJECT_ROOT)
    after = _snapshot(lpoint_build)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], check_exact=True, obj=name)
