"""The benchmark's pandas peer (bench/pandas_peer.py) computes the same numbers as the SQL
marts: customer_rfm, customer_product_preference and customer_sessions, to 1e-9. If this
fails, either the peer or the SQL changed its rules; the benchmark ratio is only fair while
both compute the same thing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bad_prepared_rows import dirty_prepared_copy
from conftest import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for `bench`
from bench import pandas_peer  # noqa: E402

TOL = 1e-9
pytestmark = pytest.mark.slow  # builds the warehouse (lpoint_build)


@pytest.fixture(scope="module")
def peer(lpoint_build):
    return pandas_peer.run(lpoint_build.prepared_dir)


@pytest.fixture(scope="module")
def marts(lpoint_build):
    con = connect(lpoint_build)
    try:
        return {
            "rfm": con.sql("select * from marts.customer_rfm order by customer_id").df(),
            "preference": con.sql(
                "select * from marts.customer_product_preference order by affiliate_code, customer_id, product_code"
            ).df(),
            "sessions": con.sql("select * from marts.customer_sessions order by session_id").df(),
        }
    finally:
        con.close()


def assert_same(peer: pd.DataFrame, sql: pd.DataFrame, keys: list[str], values: list[str]) -> None:
    assert len(peer) == len(sql), f"row count: peer {len(peer)} vs SQL {len(sql)}"
    for key in keys:
        assert peer[key].astype(str).tolist() == sql[key].astype(str).tolist(), f"key column {key} differs"
    for column in values:
        np.testing.assert_allclose(
            peer[column].to_numpy(dtype=float),
            sql[column].to_numpy(dtype=float),
            rtol=TOL,
            atol=TOL,
            equal_nan=True,
            err_msg=column,
        )


def test_rfm_equals_customer_rfm(peer, marts):
    assert_same(
        peer.rfm,
        marts["rfm"],
        ["customer_id"],
        [
            "frequency",
            "recency",
            "T",
            "monetary_value",
            "days_since_last_purchase",
            "n_purchase_days",
            "n_receipts",
            "total_spend",
        ],
    )


def test_preference_equals_customer_product_preference(peer, marts):
    assert_same(
        peer.preference,
        marts["preference"],
        ["affiliate_code", "customer_id", "product_code"],
        [
            "n_purchases",
            "n_purchase_days",
            "own_mean_interval_days",
            "mean_interval_days",
            "category_share",
            "interval_ratio",
            "buy_level",
            "category_level",
            "interval_level",
            "preference_score",
        ],
    )
    assert (
        peer.preference["interval_is_fallback"].to_numpy() == marts["preference"]["interval_is_fallback"].to_numpy()
    ).all()


def test_sessions_equal_customer_sessions(peer, marts):
    sql = marts["sessions"]
    assert_same(
        peer.sessions, sql, ["session_id", "customer_id", "affiliate_code", "channel"], ["n_lines", "n_units", "spend"]
    )
    assert (peer.sessions["session_start"].to_numpy() == sql["session_start"].to_numpy()).all()
    # the aggregate figures the benchmark quotes
    for column in ("n_lines", "n_units", "spend"):
        assert abs(peer.sessions[column].sum() - sql[column].sum()) <= TOL * max(1.0, abs(sql[column].sum()))
    per_channel_peer = peer.sessions.groupby("channel").size().sort_index()
    per_channel_sql = sql.groupby("channel").size().sort_index()
    assert per_channel_peer.tolist() == per_channel_sql.tolist()


def test_peer_drops_quarantined_rows(lpoint_build, peer, tmp_path):
    """The peer applies the staging quarantine rules: bad rows appended to the prepared
    files change nothing (the SQL side is covered by test_bad_input_quarantine.py)."""
    prepared = dirty_prepared_copy(lpoint_build.prepared_dir, tmp_path / "prepared")
    dirty = pandas_peer.run(prepared)
    pd.testing.assert_frame_equal(dirty.rfm, peer.rfm)
    pd.testing.assert_frame_equal(dirty.preference, peer.preference)
    pd.testing.assert_frame_equal(dirty.sessions, peer.sessions)
