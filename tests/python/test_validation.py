"""Great Expectations suites over the marts: every kind of expectation can fail, absent
marts are skipped with a notice, Data Docs are built, and 1M-row marts validate quickly.

All on tiny synthetic marts (loyalty_analytics.validation.synthetic) in a tmp DuckDB file;
the GX project is a tmp copy of gx/great_expectations.yml."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import duckdb
import pytest

os.environ["GX_ANALYTICS_ENABLED"] = "False"

from loyalty_analytics.validation import format_summary, validate_warehouse  # noqa: E402
from loyalty_analytics.validation.frames import build_plans  # noqa: E402
from conftest import execute_sql as _execute  # noqa: E402
from loyalty_analytics.validation.synthetic import build_synthetic_marts  # noqa: E402


@pytest.fixture(scope="module")
def gx_root(tmp_path_factory):
    return tmp_path_factory.mktemp("gx") / "gx"  # created from the template on first use


@pytest.fixture(scope="module")
def good_warehouse(tmp_path_factory):
    return build_synthetic_marts(tmp_path_factory.mktemp("wh") / "warehouse.duckdb", n_customers=60)


@pytest.fixture
def warehouse(good_warehouse, tmp_path):
    """A private copy of the good warehouse that a test may damage."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(good_warehouse, path)
    return path


def test_good_marts_pass_every_suite(good_warehouse, gx_root):
    report = validate_warehouse(good_warehouse, gx_root=gx_root, build_docs=True)
    print(format_summary(report))
    assert report.success, format_summary(report)
    assert len(report.marts) == 16
    assert report.n_expectations > 150
    # every cross-table check was planned (nothing skipped on a complete warehouse)
    assert not [n for n in report.notices if "skipped" in n], report.notices
    assert os.path.exists(report.data_docs)
    assert (gx_root / "uncommitted" / "data_docs" / "local_site" / "validations").is_dir()


# (id, SQL that injects the defect, mart, expectation type, column) -- one per KIND of rule
DEFECTS = [
    ("duplicate_key",
     ["insert into marts.customer_rfm select * from marts.customer_rfm where customer_id = 'M000000001'"],
     "customer_rfm", "expect_column_values_to_be_unique", "customer_id"),
    ("duplicate_compound_key",
     ["insert into marts.product_recommendations select * from marts.product_recommendations "
      "where customer_id = 'M000000002' and rank = 1"],
     "product_recommendations", "expect_compound_columns_to_be_unique",
     "customer_id, affiliate_code, model_name, rank"),
    ("null_key",
     ["update marts.customer_clv set customer_id = null where customer_id = 'M000000004'"],
     "customer_clv", "expect_column_values_to_not_be_null", "customer_id"),
    ("score_above_5",
     ["update marts.customer_product_preference set preference_score = 5.3 "
      "where customer_id = 'M000000001' and product_code = 'PD0001'"],
     "customer_product_preference", "expect_column_values_to_be_between", "preference_score"),
    ("p_alive_above_1",
     ["update marts.customer_clv set p_alive = 1.2 where customer_id = 'M000000003'"],
     "customer_clv", "expect_column_values_to_be_between", "p_alive"),
    ("negative_clv",
     ["update marts.customer_clv set clv_12m = -1 where customer_id = 'M000000003'"],
     "customer_clv", "expect_column_values_to_be_between", "clv_12m"),
    ("rank_gap",
     ["delete from marts.product_recommendations where customer_id = 'M000000001' and rank = 2"],
     "product_recommendations", "expect_column_values_to_be_in_set", "chk_rank_without_gap"),
    ("already_bought",  # customer 3 bought PD0003 at A01 (synthetic: product (i + j) at A0{1 + j % 2})
     ["update marts.product_recommendations set product_code = 'PD0003' "
      "where customer_id = 'M000000003' and rank = 1"],
     "product_recommendations", "expect_column_values_to_be_in_set", "chk_not_already_bought"),
    ("already_bought_via_preference_mart",  # no intermediate.int_transactions: falls back to the mart
     ["drop table intermediate.int_transactions",
      "update marts.product_recommendations set product_code = 'PD0003' "
      "where customer_id = 'M000000003' and rank = 1"],
     "product_recommendations", "expect_column_values_to_be_in_set", "chk_not_already_bought"),
    ("customer_without_segment",
     ["delete from marts.customer_segments where customer_id = 'M000000005'"],
     "customer_segments", "expect_column_values_to_be_in_set", "chk_customer_rfm_covered"),
    ("customer_without_tier",
     ["update marts.customer_segments set tier = null where customer_id = 'M000000005'"],
     "customer_segments", "expect_column_values_to_not_be_null", "tier"),
    ("segment_missing_from_profiles",
     ["delete from marts.segment_profiles where segment_id = 2"],
     "customer_segments", "expect_column_values_to_be_in_set", "chk_segment_in_profiles"),
    ("unknown_tier",
     ["update marts.customer_segments set tier = 'Platinum' where customer_id = 'M000000006'"],
     "customer_segments", "expect_column_values_to_be_in_set", "tier"),
    ("row_count_mismatch_360",
     ["delete from marts.customer_360 where customer_id = 'M000000007'"],
     "customer_360", "expect_table_row_count_to_equal", None),
    ("row_count_mismatch_clv",
     ["insert into marts.customer_clv select 'M999999999', p_alive, expected_purchases_30d, "
      "expected_purchases_90d, expected_purchases_365d, expected_avg_spend, clv_3m, clv_6m, clv_12m "
      "from marts.customer_clv limit 1"],
     "customer_clv", "expect_table_row_count_to_equal", None),
    ("shares_not_summing_to_1",
     ["update marts.affiliate_preferences set purchase_share = 0.5 "
      "where customer_id = 'M000000001' and affiliate_code = 'A01'"],
     "affiliate_preferences", "expect_column_values_to_be_in_set", "chk_shares_sum_to_one"),
    ("stamp_mission_rank_gap",
     ["delete from marts.stamp_mission where customer_id = 'M000000001' and category_rank = 1"],
     "stamp_mission", "expect_column_values_to_be_in_set", "chk_category_rank_without_gap"),
    ("bad_rfm_cell",
     ["update marts.customer_rfm set rfm_cell = 'R6F1M1' where customer_id = 'M000000001'"],
     "customer_rfm", "expect_column_values_to_match_regex", "rfm_cell"),
    ("timestamp_out_of_bounds",
     ["update marts.customer_sessions set session_start = timestamp '1970-01-01 00:00:00' "
      "where customer_id = 'M000000001'"],
     "customer_sessions", "expect_column_values_to_be_in_set", "chk_session_start_within_bounds"),
    ("missing_required_column",
     ["alter table marts.customer_clv drop column p_alive"],
     "customer_clv", "expect_column_to_exist", "p_alive"),
    ("session_not_in_sessions",
     ["delete from marts.customer_sessions where customer_id = 'M000000002'"],
     "customer_session_sequences", "expect_column_values_to_be_in_set", "chk_session_in_customer_sessions"),
    ("active_above_cohort_size",
     ["update marts.customer_cohorts set active_customers = 51 where months_since_first = 0"],
     "customer_cohorts", "expect_column_values_to_be_in_set", "chk_active_within_cohort"),
    ("empty_mart",
     ["delete from marts.model_metrics"],
     "model_metrics", "expect_table_row_count_to_be_between", None),
]


@pytest.mark.parametrize("statements, mart, expectation, column",
                         [d[1:] for d in DEFECTS], ids=[d[0] for d in DEFECTS])
def test_each_kind_of_expectation_can_fail(warehouse, gx_root, statements, mart, expectation, column):
    _execute(warehouse, *statements)
    report = validate_warehouse(warehouse, gx_root=gx_root, build_docs=False, only=[mart])
    summary = format_summary(report)
    assert not report.success, summary
    hits = [f for f in report.failures
            if f.mart == mart and f.expectation == expectation and f.column == column]
    assert hits, f"expected {mart}/{expectation}/{column} among failures:\n{summary}"
    f = hits[0]
    if f.unexpected_count is not None:
        assert f.unexpected_count >= 1
    # the printed summary names the mart, the expectation and the column
    line = next(l for l in summary.splitlines() if l.strip().startswith(f"x {mart}: {expectation}"))
    assert (column or "table") in line
    assert "RESULT: FAILED" in summary


def test_failures_name_offending_keys(warehouse, gx_root):
    _execute(warehouse, "update marts.customer_clv set p_alive = 1.2 where customer_id = 'M000000003'")
    report = validate_warehouse(warehouse, gx_root=gx_root, build_docs=False, only=["customer_clv"])
    (f,) = [f for f in report.failures if f.column == "p_alive"]
    assert f.unexpected_count == 1
    assert any("M000000003" in e for e in f.examples), f.examples


def test_absent_marts_are_skipped_with_a_notice(warehouse, gx_root):
    """CDNOW has no products: product-level marts are absent and their suites skipped."""
    _execute(warehouse, *[f"drop table marts.{m}" for m in (
        "customer_product_preference", "preference_score_backtest", "customer_session_sequences",
        "customer_sessions",
        "product_recommendations", "affiliate_preferences", "stamp_mission")],
        "drop schema intermediate cascade")
    report = validate_warehouse(warehouse, gx_root=gx_root, build_docs=False)
    assert report.success, format_summary(report)
    assert len(report.marts) == 9
    assert "product_recommendations: mart absent, suite skipped" in report.notices
    assert "Notices:" in format_summary(report)


def test_cross_checks_are_skipped_when_their_tables_are_absent(warehouse, gx_root):
    _execute(warehouse, "drop table marts.segment_profiles", "drop table marts.customer_rfm")
    report = validate_warehouse(warehouse, gx_root=gx_root, build_docs=False)
    assert report.success, format_summary(report)
    text = "\n".join(report.notices)
    assert "customer_segments: check chk_segment_in_profiles skipped" in text
    assert "customer_segments: coverage check chk_customer_rfm_covered skipped" in text
    assert "customer_360: row count check skipped (customer_rfm absent)" in text


def test_unknown_mart_gets_generic_suite(warehouse, gx_root):
    _execute(warehouse, "create table marts.brand_new as select 1 as x")
    report = validate_warehouse(warehouse, gx_root=gx_root, build_docs=False, only=["brand_new"])
    assert report.success
    assert any("brand_new: no declared suite" in n for n in report.notices)


def test_plans_select_only_needed_columns(good_warehouse):
    con = duckdb.connect(str(good_warehouse), read_only=True)
    try:
        plans, _, params = build_plans(con)
    finally:
        con.close()
    by = {p.mart: p for p in plans}
    assert params == {"customer_rfm_row_count": 60}
    recs = by["product_recommendations"]
    assert "chk_not_already_bought" in recs.sql and "intermediate.int_transactions" in recs.sql
    assert "build_tag" not in by["customer_rfm"].sql  # unused columns are not loaded
    types = {e.type for p in plans for e in p.expectations}
    assert "ExpectColumnQuantileValuesToBeBetween" not in types


def test_cli_exit_codes(warehouse, gx_root, tmp_path):
    env = dict(os.environ, GX_ANALYTICS_ENABLED="False")
    cmd = [sys.executable, "-m", "loyalty_analytics.validation", "--warehouse", str(warehouse),
           "--gx-dir", str(gx_root), "--mart", "customer_clv", "--mart", "customer_rfm",
           "--json", str(tmp_path / "report.json")]
    ok = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "RESULT: PASSED" in ok.stdout and "Data Docs:" in ok.stdout
    assert (tmp_path / "report.json").exists()
    _execute(warehouse, "update marts.customer_clv set clv_12m = -5 where customer_id = 'M000000001'")
    bad = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "customer_clv: expect_column_values_to_be_between [column clv_12m] unexpected 1" in bad.stdout
    missing = subprocess.run(cmd[:4] + [str(tmp_path / "nope.duckdb")], capture_output=True, text=True,
                             env=env, timeout=300)
    assert missing.returncode == 2


def test_validation_runtime_on_1m_row_marts(tmp_path, gx_root):
    """~1M rows in customer_product_preference and product_recommendations, 100k customers."""
    path = build_synthetic_marts(tmp_path / "warehouse.duckdb", n_customers=100_000,
                                 products_per_customer=10, n_recs=10, n_products=2000)
    t = time.perf_counter()
    report = validate_warehouse(path, gx_root=gx_root, build_docs=False)
    elapsed = time.perf_counter() - t
    rows = {m.mart: m.rows for m in report.marts}
    print(f"\nvalidation of {sum(rows.values()):,} mart rows ({rows['product_recommendations']:,} "
          f"recommendations): {elapsed:.1f}s wall, timings " +
          ", ".join(f"{k} {v:.2f}s" for k, v in report.timings.items()))
    assert report.success, format_summary(report)
    assert rows["product_recommendations"] == 1_000_000
    assert elapsed < 120  # a few seconds on an idle 2-core machine; generous for shared CI
