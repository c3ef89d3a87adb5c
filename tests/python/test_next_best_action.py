"""The CRM playbook covers every segment name the segmentation can produce, its actions are
valid audience file names, and on the session's generated and CDNOW builds the next-best-action
mart follows its documented rules (docs/actions.md) and the plan back-test is consistent with
its model_metrics rows."""

from __future__ import annotations

import itertools
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import connect

from loyalty_analytics import paths
from loyalty_analytics import publish as pub
from loyalty_analytics.segmentation import naming

PLAYBOOK = Path(paths.PROJECT_ROOT) / "seeds" / "crm_playbook.csv"
# int_nba_customer_states: a segment name's playbook row is its base name (up to ", " or " #")
PLAYBOOK_KEY_SQL = "trim(regexp_extract(segment_name, '^[^,#]*'))"
# z-scores on both sides of every threshold of the naming rules, and missing
Z_GRID = (-1.0, -0.3, 0.0, 0.3, 0.6, np.nan)


def _playbook() -> pd.DataFrame:
    return pd.read_csv(PLAYBOOK, dtype=str, keep_default_na=False)


def _names_the_segmentation_can_produce() -> set[str]:
    """Every name (with qualifiers) name_segments gives: one profile with a segment per point of
    the z grid over freq, ticket, value, lapse, tenure, plus the two L.Pay names."""
    grid = pd.DataFrame(
        list(itertools.product(Z_GRID, repeat=5)), columns=["freq", "ticket", "value", "lapse", "tenure"]
    )
    names = set(naming.name_segments(grid).values())
    for value in (1.0, 0.0):  # the highest-L.Pay segment is L.Pay VIP or L.Pay regulars by its value
        lpay = pd.DataFrame({"lpay": [1.0, -1.0], "value": [value, 0.0], "freq": [0.0, 0.0]})
        names |= set(naming.name_segments(lpay).values())
    return names


def test_playbook_has_a_row_for_every_segment_name_the_segmentation_can_produce():
    names = _names_the_segmentation_can_produce()
    keys = duckdb.sql(
        f"select distinct {PLAYBOOK_KEY_SQL} as key from (select unnest(?) as segment_name)", params=[sorted(names)]
    ).fetchall()
    playbook = _playbook()
    segment_rows = set(playbook.loc[playbook["key_type"] == "segment", "playbook_key"])
    missing = {k for (k,) in keys} - segment_rows
    assert not missing, f"segment names without a crm_playbook row: {sorted(missing)}"
    assert {"L.Pay VIP", "L.Pay regulars", "at risk", "new customers"} <= {k for (k,) in keys}
    assert "dropped out" in set(playbook.loc[playbook["key_type"] == "state", "playbook_key"])


def test_playbook_actions_are_audience_file_names_and_lpay_variants_are_complete():
    playbook = _playbook()
    actions = set(playbook["action"]) | set(playbook["lpay_action"]) - {""}
    for action in actions:
        assert pub._audience_file_name(action) == f"{action}.csv", action
    lpay = playbook[["lpay_action", "lpay_offer_type", "lpay_offer_example"]].ne("")
    assert (lpay.all(axis=1) | ~lpay.any(axis=1)).all(), "an L.Pay variant needs its action, offer type and example"
    assert not playbook.loc[playbook["lpay_action"] != "", "action"].str.startswith("lpay").any()


# -- the session's generated L.Point build (conftest.lpoint_build) ---------------------------


def _frame(layout, sql: str) -> pd.DataFrame:
    con = connect(layout)
    try:
        return con.execute(sql).df()
    finally:
        con.close()


@pytest.fixture(scope="module")
def nba(lpoint_build) -> pd.DataFrame:
    return _frame(
        lpoint_build,
        """
        select nba.*, rfm.days_since_last_purchase as rfm_days, clv.p_alive as clv_p_alive,
               params.observation_end
        from marts.next_best_action nba
        join marts.customer_rfm rfm using (customer_id)
        join marts.customer_clv clv using (customer_id)
        cross join intermediate.int_run_parameters params
        """,
    )


def test_one_row_per_active_customer(lpoint_build, nba):
    active = _frame(
        lpoint_build,
        """select count(*) as n from marts.customer_rfm, intermediate.int_run_parameters p
           where last_purchase_date > p.observation_end - 365""",
    )["n"][0]
    assert len(nba) == active > 0
    assert nba["customer_id"].is_unique


def test_dropped_out_customers_get_the_win_back_action(nba):
    dropped = nba["clv_p_alive"] < 0.5
    assert dropped.any() and (~dropped).any()
    assert (nba.loc[dropped, "action"] == "win_back").all()
    assert (nba.loc[dropped, "contact_window_source"] == "dropped_out").all()
    assert (nba.loc[dropped, "contact_start_date"] == nba.loc[dropped, "observation_end"] + pd.Timedelta(days=1)).all()
    assert (nba.loc[~dropped, "action"] != "win_back").all()


def test_just_bought_customers_are_suppressed_and_left_out_of_the_ranks(nba):
    just_bought = nba["rfm_days"] < 3
    assert just_bought.any() and (~just_bought).any()
    assert (nba["suppressed"] == just_bought).all()
    assert (nba.loc[just_bought, "suppression_reason"] == "just_bought").all()
    assert nba.loc[just_bought, ["priority_rank", "action_rank"]].isna().all().all()
    ranked = nba[~just_bought].sort_values("priority_rank")
    assert list(ranked["priority_rank"]) == list(range(1, len(ranked) + 1))
    assert ranked["clv_12m"].is_monotonic_decreasing


def test_contact_window_starts_after_observation_end_and_lasts_the_set_days(nba):
    start, end = nba["contact_start_date"], nba["contact_end_date"]
    assert (start > nba["observation_end"]).all()
    assert ((end - start).dt.days == 13).all()
    assert nba["contact_window_source"].isin(["recommended_replenishment", "top_repurchase_products"]).any()


def test_plan_products_are_the_customers_champion_recommendations(lpoint_build, nba):
    champions = _frame(
        lpoint_build,
        "select distinct customer_id, affiliate_code, recommendation_kind, product_code "
        "from marts.champion_recommendations",
    )
    keys = set(map(tuple, champions.to_numpy()))
    for s in (1, 2, 3):
        cols = [f"{c}_{s}" for c in ("affiliate_code", "recommendation_kind", "product_code")]
        rows = nba.dropna(subset=[f"product_code_{s}"])
        assert all((c, *r) in keys for c, r in zip(rows["customer_id"], rows[cols].itertuples(index=False)))
        assert rows[f"reason_{s}"].notna().all()
    assert (nba["n_products"] == nba[[f"product_code_{s}" for s in (1, 2, 3)]].notna().sum(axis=1)).all()
    assert (nba["n_products"] > 0).mean() > 0.9


def test_every_champion_recommendation_has_a_reason_of_its_kind(lpoint_build):
    reasons = _frame(
        lpoint_build,
        """select c.recommendation_kind, c.reason, r.reason_kind
           from marts.champion_recommendations c
           left join intermediate.int_recommendation_reasons r
               using (customer_id, affiliate_code, recommendation_kind, product_code)""",
    )
    assert reasons["reason"].notna().all() and reasons["reason_kind"].notna().all()
    replenishment = reasons["recommendation_kind"] == "replenishment"
    assert reasons.loc[replenishment, "reason"].str.startswith("you buy it about every").all()
    assert {"bought_together", "segment_popularity"} <= set(reasons.loc[~replenishment, "reason_kind"])


def test_plan_backtest_arms_cover_the_same_slots_and_match_model_metrics(lpoint_build):
    backtest = _frame(lpoint_build, "select * from marts.plan_backtest where action = 'all'").set_index("arm")
    assert set(backtest.index) == {"plan", "random_same_category", "popularity"}
    assert backtest["n_pairs"].nunique() == 1 and backtest["n_customers"].nunique() == 1
    assert (backtest.loc["plan", "kind_eligible_share"]) == 1.0
    metrics = _frame(lpoint_build, "select * from marts.model_metrics where split = 'plan_backtest'")
    for arm, row in backtest.iterrows():
        got = metrics[metrics["model_name"] == f"nba_{arm}"].set_index("metric")["value"]
        for metric in ("window_hit_rate", "customer_window_hit_rate", "after_cut_hit_rate", "n_pairs"):
            assert got[metric] == pytest.approx(row[metric]), (arm, metric)


# -- CDNOW: no products ----------------------------------------------------------------------


def test_cdnow_plan_has_no_products_and_no_backtest(cdnow_sample_build):
    nba = _frame(cdnow_sample_build, "select * from marts.next_best_action")
    assert len(nba) > 0 and nba["customer_id"].is_unique
    product_columns = [c for c in nba.columns if c[:-2] in ("product_code", "product_name", "reason")]
    assert len(product_columns) == 9 and nba[product_columns].isna().all().all()
    assert (nba["n_products"] == 0).all()
    assert set(nba["contact_window_source"]) <= {"dropped_out", "purchase_rhythm", "next_day"}
    marts = _frame(cdnow_sample_build, "select table_name from information_schema.tables where table_schema = 'marts'")
    assert "plan_backtest" not in set(marts["table_name"])
