"""Great Expectations validation of the marts: every rule of the marts' dbt yml becomes an
expectation, every kind of expectation can fail, absent marts are skipped with a notice,
Data Docs are built, and 1M-row marts validate quickly.

Validation runs on tiny synthetic marts (validation_fixtures) in a tmp DuckDB file; the GX
project is a tmp copy of gx/great_expectations.yml."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import duckdb
import pytest

os.environ["GX_ANALYTICS_ENABLED"] = "False"

from conftest import execute_sql as _execute  # noqa: E402
from validation_fixtures import build_synthetic_marts  # noqa: E402

from loyalty_analytics import paths  # noqa: E402
from loyalty_analytics.validation import format_summary, validate_warehouse  # noqa: E402
from loyalty_analytics.validation.dbt_rules import Rule, load_mart_rules, parse_yml_text, ref_name  # noqa: E402
from loyalty_analytics.validation.frames import build_plan, build_plans, declared_marts  # noqa: E402
from loyalty_analytics.validation.relations import MARTS_SCHEMA  # noqa: E402
from loyalty_analytics.validation.suites import EXTRA_RULES_BY_MART, NOT_YET_IN_DBT_YML  # noqa: E402


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
    assert len(report.marts) == 19
    assert report.n_expectations > 400
    # every rule and cross-table check was planned (nothing skipped on a complete warehouse;
    # declared marts the fixture lacks are only reported absent)
    assert not [n for n in report.notices if "mart absent" not in n], report.notices
    assert os.path.exists(report.data_docs)
    assert (gx_root / "uncommitted" / "data_docs" / "local_site" / "validations").is_dir()


def test_validation_never_changes_the_project_file(good_warehouse, gx_root):
    """GX writes its datasource and one asset per mart into the yml of the context it runs in:
    that must be the git-ignored working copy, not the committed gx/great_expectations.yml."""
    validate_warehouse(good_warehouse, gx_root=gx_root, build_docs=False)
    before = (gx_root / "great_expectations.yml").read_bytes()
    validate_warehouse(good_warehouse, gx_root=gx_root, build_docs=False)
    assert (gx_root / "great_expectations.yml").read_bytes() == before
    assert b"fluent_datasources" not in before
    assert b"fluent_datasources" in (gx_root / "uncommitted" / "great_expectations.yml").read_bytes()


# (id, SQL that injects the defect, mart, expectation type, column) -- one per KIND of rule:
# each dbt yml rule family, the not-yet-in-yml rules and the rules of suites.py
DEFECTS = [
    (
        "duplicate_key",
        ["insert into marts.customer_rfm select * from marts.customer_rfm where customer_id = 'M000000001'"],
        "customer_rfm",
        "expect_column_values_to_be_unique",
        "customer_id",
    ),
    (
        "duplicate_compound_key",
        [
            "insert into marts.product_recommendations select * from marts.product_recommendations "
            "where customer_id = 'M000000002' and rank = 1"
        ],
        "product_recommendations",
        "expect_compound_columns_to_be_unique",
        "customer_id, affiliate_code, model_name, recommendation_kind, rank",
    ),
    (
        "null_key",
        ["update marts.customer_clv set customer_id = null where customer_id = 'M000000004'"],
        "customer_clv",
        "expect_column_values_to_not_be_null",
        "customer_id",
    ),
    (
        "score_above_5",
        [
            "update marts.customer_product_preference set preference_score = 5.3 "
            "where customer_id = 'M000000001' and product_code = 'PD0001'"
        ],
        "customer_product_preference",
        "expect_column_values_to_be_between",
        "preference_score",
    ),
    (
        "p_alive_above_1",
        ["update marts.customer_clv set p_alive = 1.2 where customer_id = 'M000000003'"],
        "customer_clv",
        "expect_column_values_to_be_between",
        "p_alive",
    ),
    (
        "negative_clv",
        ["update marts.customer_clv set clv_12m = -1 where customer_id = 'M000000003'"],
        "customer_clv",
        "expect_column_values_to_be_between",
        "clv_12m",
    ),
    (
        "rank_gap",
        ["delete from marts.product_recommendations where customer_id = 'M000000001' and rank = 2"],
        "product_recommendations",
        "expect_column_values_to_be_in_set",
        "chk_rank_without_gap",
    ),
    (
        "already_bought",  # customer 3 bought PD0003 at A01 (synthetic: product (i + j) at A0{1 + j % 2})
        [
            "update marts.product_recommendations set product_code = 'PD0003' "
            "where customer_id = 'M000000003' and rank = 1"
        ],
        "product_recommendations",
        "expect_column_values_to_be_in_set",
        "chk_kind_matches_history",
    ),
    (
        "new_at_affiliate_never_bought_elsewhere",  # the product is new to the customer, not new at A01
        [
            "update marts.product_recommendations set recommendation_kind = 'new_at_affiliate' "
            "where customer_id = 'M000000003'"
        ],
        "product_recommendations",
        "expect_column_values_to_be_in_set",
        "chk_kind_matches_history",
    ),
    (
        "replenishment_never_bought_there",  # customer 3 bought PD0004 at A02 only
        [
            "update marts.champion_recommendations set product_code = 'PD0004', "
            "recommendation_kind = 'replenishment' where customer_id = 'M000000003' and rank = 1",
            "delete from marts.champion_recommendations where customer_id = 'M000000003' and rank > 1",
        ],
        "champion_recommendations",
        "expect_column_values_to_be_in_set",
        "chk_kind_matches_history",
    ),
    (
        "probability_above_1",
        ["update marts.champion_recommendations set purchase_probability = 1.2 where customer_id = 'M000000003'"],
        "champion_recommendations",
        "expect_column_values_to_be_between",
        "purchase_probability",
    ),
    (
        "unknown_recommendation_kind",
        ["update marts.recommendation_calibration set recommendation_kind = 'cross_sell' where bin = 1"],
        "recommendation_calibration",
        "expect_column_values_to_be_in_set",
        "recommendation_kind",
    ),
    (
        "already_bought_via_preference_mart",  # no intermediate.int_transactions: falls back to the mart
        [
            "drop table intermediate.int_transactions",
            "update marts.product_recommendations set product_code = 'PD0003' "
            "where customer_id = 'M000000003' and rank = 1",
        ],
        "product_recommendations",
        "expect_column_values_to_be_in_set",
        "chk_kind_matches_history",
    ),
    (
        "customer_without_segment",
        ["delete from marts.customer_segments where customer_id = 'M000000005'"],
        "customer_segments",
        "expect_column_values_to_be_in_set",
        "chk_customer_rfm_covered",
    ),
    (
        "customer_without_tier",
        ["update marts.customer_segments set tier = null where customer_id = 'M000000005'"],
        "customer_segments",
        "expect_column_values_to_not_be_null",
        "tier",
    ),
    (
        "segment_missing_from_profiles",
        ["delete from marts.segment_profiles where segment_id = 2"],
        "customer_segments",
        "expect_column_values_to_be_in_set",
        "chk_segment_in_profiles",
    ),
    (
        "unknown_tier",
        ["update marts.customer_segments set tier = 'Platinum' where customer_id = 'M000000006'"],
        "customer_segments",
        "expect_column_values_to_be_in_set",
        "tier",
    ),
    (
        "row_count_mismatch_360",
        ["delete from marts.customer_360 where customer_id = 'M000000007'"],
        "customer_360",
        "expect_table_row_count_to_equal",
        None,
    ),
    (
        "row_count_mismatch_clv",
        [
            "insert into marts.customer_clv select * replace ('M999999999' as customer_id) "
            "from marts.customer_clv limit 1"
        ],
        "customer_clv",
        "expect_table_row_count_to_equal",
        None,
    ),
    (
        "clv_customer_not_in_rfm",  # dbt relationships
        ["update marts.customer_clv set customer_id = 'M999999999' where customer_id = 'M000000004'"],
        "customer_clv",
        "expect_column_values_to_be_in_set",
        "chk_customer_id_in_customer_rfm",
    ),
    (
        "recommended_product_not_in_catalog",  # dbt relationships to an intermediate model
        [
            "update marts.product_recommendations set product_code = 'PD9999' "
            "where customer_id = 'M000000003' and rank = 1"
        ],
        "product_recommendations",
        "expect_column_values_to_be_in_set",
        "chk_product_code_in_int_products",
    ),
    (
        "null_where_the_rule_applies",  # dbt not_null with config.where (log_likelihood may be null)
        ["update marts.clv_model_params set value = null where parameter = 'alpha'"],
        "clv_model_params",
        "expect_column_values_to_not_be_null",
        "value",
    ),
    (
        "shares_not_summing_to_1",
        [
            "update marts.affiliate_preferences set purchase_share = 0.5 "
            "where customer_id = 'M000000001' and affiliate_code = 'A01'"
        ],
        "affiliate_preferences",
        "expect_column_values_to_be_in_set",
        "chk_purchase_share_sums_to_one",
    ),
    (
        "spend_shares_not_summing_to_1",  # suites.NOT_YET_IN_DBT_YML
        [
            "update marts.affiliate_preferences set spend_share = 0.5 "
            "where customer_id = 'M000000001' and affiliate_code = 'A01'"
        ],
        "affiliate_preferences",
        "expect_column_values_to_be_in_set",
        "chk_spend_share_sums_to_one",
    ),
    (
        "session_index_gap",  # suites.NOT_YET_IN_DBT_YML ranks_without_gaps
        ["update marts.customer_session_sequences set session_index = 2 where customer_id = 'M000000001'"],
        "customer_session_sequences",
        "expect_column_values_to_be_in_set",
        "chk_session_index_without_gap",
    ),
    (
        "unknown_online_grade",  # dbt accepted_values
        ["update marts.customer_rfm set online_grade = 'G9' where customer_id = 'M000000001'"],
        "customer_rfm",
        "expect_column_values_to_be_in_set",
        "online_grade",
    ),
    (
        "duplicate_unique_column",  # dbt unique on a non-key column
        ["update marts.customer_session_sequences set session_id = 'SM000000001' where customer_id = 'M000000002'"],
        "customer_session_sequences",
        "expect_column_values_to_be_unique",
        "session_id",
    ),
    (
        "stamp_mission_rank_gap",
        ["delete from marts.stamp_mission where customer_id = 'M000000001' and category_rank = 1"],
        "stamp_mission",
        "expect_column_values_to_be_in_set",
        "chk_category_rank_without_gap",
    ),
    (
        "bad_rfm_cell",
        ["update marts.customer_rfm set rfm_cell = 'R6F1M1' where customer_id = 'M000000001'"],
        "customer_rfm",
        "expect_column_values_to_match_regex",
        "rfm_cell",
    ),
    (
        "timestamp_out_of_bounds",
        [
            "update marts.customer_sessions set session_start = timestamp '1970-01-01 00:00:00' "
            "where customer_id = 'M000000001'"
        ],
        "customer_sessions",
        "expect_column_values_to_be_in_set",
        "chk_session_start_within_bounds",
    ),
    (
        "missing_contract_column",
        ["alter table marts.customer_clv drop column p_alive"],
        "customer_clv",
        "expect_column_to_exist",
        "p_alive",
    ),
    (
        "missing_column_without_rules",  # only declared (data_type) in the contract
        ["alter table marts.customer_360 drop column gender"],
        "customer_360",
        "expect_column_to_exist",
        "gender",
    ),
    (
        "session_not_in_sessions",
        ["delete from marts.customer_sessions where customer_id = 'M000000002'"],
        "customer_session_sequences",
        "expect_column_values_to_be_in_set",
        "chk_session_id_in_customer_sessions",
    ),
    (
        "active_above_cohort_size",
        ["update marts.customer_cohorts set active_customers = 51 where months_since_first = 0"],
        "customer_cohorts",
        "expect_column_values_to_be_in_set",
        "chk_active_within_cohort",
    ),
    ("empty_mart", ["delete from marts.model_metrics"], "model_metrics", "expect_table_row_count_to_be_between", None),
]


@pytest.mark.parametrize("statements, mart, expectation, column", [d[1:] for d in DEFECTS], ids=[d[0] for d in DEFECTS])
def test_each_kind_of_expectation_can_fail(warehouse, gx_root, statements, mart, expectation, column):
    _execute(warehouse, *statements)
    report = validate_warehouse(warehouse, gx_root=gx_root, build_docs=False, only=[mart])
    summary = format_summary(report)
    assert not report.success, summary
    hits = [f for f in report.failures if f.mart == mart and f.expectation == expectation and f.column == column]
    assert hits, f"expected {mart}/{expectation}/{column} among failures:\n{summary}"
    f = hits[0]
    if f.unexpected_count is not None:
        assert f.unexpected_count >= 1
    # the printed summary names the mart, the expectation and the column
    line = next(ln for ln in summary.splitlines() if ln.strip().startswith(f"x {mart}: {expectation}"))
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
    _execute(
        warehouse,
        *[
            f"drop table marts.{m}"
            for m in (
                "customer_product_preference",
                "preference_score_backtest",
                "customer_session_sequences",
                "customer_sessions",
                "product_recommendations",
                "champion_recommendations",
                "recommendation_champions",
                "recommendation_calibration",
                "affiliate_preferences",
                "stamp_mission",
            )
        ],
        "drop schema intermediate cascade",
    )
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
    assert "customer_clv: check chk_customer_id_in_customer_rfm skipped (customer_rfm absent)" in text


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
    assert "chk_kind_matches_history" in recs.sql and "intermediate.int_transactions" in recs.sql
    assert "build_tag" not in by["customer_rfm"].sql  # unused columns are not loaded
    types = {e.type for p in plans for e in p.expectations}
    assert "ExpectColumnQuantileValuesToBeBetween" not in types


def test_cli_exit_codes(warehouse, gx_root, tmp_path):
    env = dict(os.environ, GX_ANALYTICS_ENABLED="False")
    cmd = [
        sys.executable,
        "-m",
        "loyalty_analytics.validation",
        "--warehouse",
        str(warehouse),
        "--gx-dir",
        str(gx_root),
        "--mart",
        "customer_clv",
        "--mart",
        "customer_rfm",
        "--json",
        str(tmp_path / "report.json"),
    ]
    ok = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "RESULT: PASSED" in ok.stdout and "Data Docs:" in ok.stdout
    assert (tmp_path / "report.json").exists()
    _execute(warehouse, "update marts.customer_clv set clv_12m = -5 where customer_id = 'M000000001'")
    bad = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "customer_clv: expect_column_values_to_be_between [column clv_12m] unexpected 1" in bad.stdout
    missing = subprocess.run(
        cmd[:4] + [str(tmp_path / "nope.duckdb")], capture_output=True, text=True, env=env, timeout=300
    )
    assert missing.returncode == 2


def _relations_from_contracts(marts) -> dict[str, dict[str, str]]:
    """What a warehouse built from the yml would hold: every declared mart with its contract
    columns, and every relationships parent."""
    relations = {f"{MARTS_SCHEMA}.{m.name}": {c: t or "varchar" for c, t in m.columns.items()} for m in marts.values()}
    relations["intermediate.int_transactions"] = {
        "customer_id": "varchar",
        "affiliate_code": "varchar",
        "product_code": "varchar",
    }
    for rule in (r for m in marts.values() for r in m.rules if r.kind == "relationships"):
        parent = ref_name(rule.kwargs["to"])
        if f"{MARTS_SCHEMA}.{parent}" not in relations:
            relations.setdefault(f"staging.{parent}", {})[rule.kwargs["field"]] = "varchar"
    return relations


def test_every_yml_rule_becomes_an_expectation():
    """Each rule of every mart's yml (and of suites.NOT_YET_IN_DBT_YML) is checked by an
    expectation of that mart's plan; nothing is left untranslated or skipped."""
    marts = declared_marts()
    assert {"customer_rfm", "customer_clv", "product_recommendations"} <= set(marts)
    relations = _relations_from_contracts(marts)
    rfm_rules = marts["customer_rfm"].rules
    assert Rule("value_between", "frequency", (("min_value", 0),)) in rfm_rules
    assert Rule("accepted_values", "online_grade", (("values", ("VIP", "G3", "G2", "G1")),)) in rfm_rules
    for name, model in marts.items():
        plan = build_plan(name, relations, model, EXTRA_RULES_BY_MART.get(name))
        checked = {e.rule for e in plan.expectations if e.rule is not None}
        missing = [r.label() for r in model.rules if r not in checked]
        assert not missing, f"{name}: rules without an expectation: {missing}"
        assert not plan.notices, plan.notices
        exist = {e.kwargs["column"] for e in plan.expectations if e.type == "ExpectColumnToExist"}
        if model.contract_enforced:
            assert set(model.columns) <= exist, f"{name}: contract columns without ExpectColumnToExist"


def test_a_rule_of_an_unknown_kind_is_reported_not_dropped():
    model = parse_yml_text("""
models:
- name: customer_rfm
  columns:
  - name: recency
    data_type: double
    data_tests: [{dbt_utils.expression_is_true: {arguments: {expression: ">= 0"}}}]
""")["customer_rfm"]
    plan = build_plan("customer_rfm", {"marts.customer_rfm": {"recency": "DOUBLE"}}, model)
    assert not [e for e in plan.expectations if e.rule is not None]
    assert any("expression_is_true" in n and "not translated" in n for n in plan.notices), plan.notices


PLAIN_YML = """
models:
- name: m
  description: '{{ doc("m") }}'
  config: {contract: {enforced: true}}
  data_tests:
  - unique_combination_of_columns:
      arguments: {combination_of_columns: [a, b]}
  - ranks_without_gaps:
      arguments: {column_name: r, group_by: [a]}
  columns:
  - name: a
    data_type: varchar
    constraints: [{type: not_null}]
    data_tests:
    - not_null
    - relationships:
        arguments: {to: ref('p'), field: a}
  - name: b
    data_type: integer
    data_tests:
    - value_between:
        arguments: {min_value: 0, max_value: 5}
        config: {where: "a <> 'x'"}
    - accepted_values:
        arguments: {values: [1, 2]}
  - name: r
    data_type: integer
    data_tests:
    - not_null:
        config: {severity: warn}
    - unique:
        config: {enabled: false}
"""

# The same rules, spelled the other ways dbt accepts: `tests:`, arguments inline (pre-1.10),
# config keys inline, `test_name:`, a package prefix, ref in braces, no descriptions (the
# marts' yml also uses YAML anchors: test_yml_parser_reads_the_rules_dbt_reads covers them).
OTHER_SPELLINGS_YML = """
models:
- name: m
  tests:
  - unique_combination_of_columns:
      combination_of_columns: [a, b]
  - name: my_ranks
    test_name: loyalty_warehouse.ranks_without_gaps
    column_name: r
    group_by: [a]
  columns:
  - name: a
    data_type: varchar
    tests: [not_null, {relationships: {to: "{{ ref('p') }}", field: a}}]
    constraints: [{type: not_null}]
  - name: b
    data_type: integer
    tests:
    - value_between: {min_value: 0, max_value: 5, where: "a <> 'x'"}
    - accepted_values: {values: [1, 2]}
  - name: r
    data_type: integer
"""


def test_yml_forms_parse_to_the_same_rules():
    plain = parse_yml_text(PLAIN_YML)["m"]
    other = parse_yml_text(OTHER_SPELLINGS_YML)["m"]
    assert set(plain.rules) == set(other.rules)
    assert plain.columns == {"a": "varchar", "b": "integer", "r": "integer"} == other.columns
    assert len(plain.rules) == 6  # warn-only and disabled tests are left out, and said so
    assert len(plain.skipped) == 2
    between = next(r for r in plain.rules if r.kind == "value_between")
    assert between.kwargs == {"min_value": 0, "max_value": 5} and between.where == "a <> 'x'"


def test_yml_parser_reads_the_rules_dbt_reads(tmp_path):
    """The parsed rules of every mart equal the tests of dbt's own manifest (`dbt parse`)
    plus the contracts' not-null constraints."""
    dbt = os.path.join(os.path.dirname(sys.executable), "dbt")
    root = str(paths.PROJECT_ROOT)
    run = subprocess.run(
        [
            dbt,
            "parse",
            "--project-dir",
            root,
            "--profiles-dir",
            root,
            "--target-path",
            str(tmp_path / "target"),
            "--log-path",
            str(tmp_path / "logs"),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, DBT_SEND_ANONYMOUS_USAGE_STATS="False"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    parsed = load_mart_rules()
    from_dbt: dict[str, set] = {name: set() for name in parsed}
    for node in manifest["nodes"].values():
        model = (node.get("attached_node") or "").rsplit(".", 1)[-1]
        if node["resource_type"] != "test" or model not in from_dbt or not node.get("test_metadata"):
            continue
        meta = node["test_metadata"]
        kwargs = {k: v for k, v in meta["kwargs"].items() if k not in ("model", "column_name")}
        if "to" in kwargs:
            kwargs["to"] = f"ref('{ref_name(kwargs['to'])}')"
        from_dbt[model].add(
            (
                meta["name"],
                node.get("column_name") or meta["kwargs"].get("column_name"),
                json.dumps(kwargs, sort_keys=True),
                node["config"].get("where"),
            )
        )

    def key(rule):
        kwargs = {k: v for k, v in rule.kwargs.items() if k != "column_name"}
        kwargs = {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}
        return (
            rule.kind,
            rule.column or rule.kwargs.get("column_name"),
            json.dumps(kwargs, sort_keys=True),
            rule.where,
        )

    for name, model in parsed.items():
        tests = {key(r) for r in model.rules if r.origin == "data_test"}
        assert tests == from_dbt[name], f"{name}: parsed {tests ^ from_dbt[name]}"


def test_no_rule_is_declared_twice():
    """suites.NOT_YET_IN_DBT_YML holds only rules the yml lacks (move a rule, delete it there),
    on columns the contracts declare; suites.py's checks read declared columns."""
    yml = load_mart_rules()
    for name, pending in parse_yml_text(NOT_YET_IN_DBT_YML).items():
        assert name in yml, name
        twice = [r.label() for r in pending.rules if r in yml[name].rules]
        assert not twice, f"{name}: declared in the yml and in suites.NOT_YET_IN_DBT_YML: {twice}"
        for rule in pending.rules:
            cols = [rule.column or rule.kwargs["column_name"]] + list(rule.kwargs.get("group_by", ()))
            assert set(cols) <= set(yml[name].columns), rule.label()
    for extra in EXTRA_RULES_BY_MART.values():
        cols = set(extra.regex) | {c for check in extra.checks for c in check.columns}
        assert cols <= set(yml[extra.mart].columns), extra.mart


def test_validation_runtime_on_1m_row_marts(tmp_path, gx_root):
    """~1M rows in customer_product_preference and product_recommendations, 100k customers."""
    path = build_synthetic_marts(
        tmp_path / "warehouse.duckdb", n_customers=100_000, products_per_customer=10, n_recs=10, n_products=2000
    )
    t = time.perf_counter()
    report = validate_warehouse(path, gx_root=gx_root, build_docs=False)
    elapsed = time.perf_counter() - t
    rows = {m.mart: m.rows for m in report.marts}
    print(
        f"\nvalidation of {sum(rows.values()):,} mart rows ({rows['product_recommendations']:,} "
        f"recommendations): {elapsed:.1f}s wall, timings "
        + ", ".join(f"{k} {v:.2f}s" for k, v in report.timings.items())
    )
    assert report.success, format_summary(report)
    assert rows["product_recommendations"] == 1_000_000
    assert elapsed < 120  # a few seconds on an idle 2-core machine; generous for shared CI
