"""The metrics layer (models/marts/semantic/, docs/metrics.md) on a small built warehouse:
MetricFlow validates the definitions as `mf validate-configs` does (semantics and the warehouse),
each KPI queried through MetricFlow equals the same SQL run directly on its mart, and the
dashboard's compiled definitions (dashboard/metric_layer.py) equal MetricFlow's answers.

MetricFlow runs in-process on the build's semantic manifest (dbt writes it with every parse or
build) and reads the build file through a small DuckDB client, the same SQL `mf query` sends
through dbt's DuckDB adapter."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from metricflow.data_table.mf_table import MetricFlowDataTable
from metricflow.engine.metricflow_engine import MetricFlowEngine, MetricFlowQueryRequest
from metricflow.protocols.sql_client import SqlEngine
from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer
from metricflow.validation.data_warehouse_model_validator import DataWarehouseModelValidator
from metricflow_semantic_interfaces.validations.semantic_manifest_validator import SemanticManifestValidator
from metricflow_semantic_interfaces.validations.validator_helpers import SemanticManifestValidationResults
from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest
from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the dashboard package (not installed)
from dashboard import metric_layer  # noqa: E402

pytestmark = pytest.mark.slow


class DuckDbClient:
    """MetricFlow's SqlClient protocol on one read-only DuckDB file."""

    sql_engine_type = SqlEngine.DUCKDB
    sql_plan_renderer = DuckDbSqlPlanRenderer()

    def __init__(self, path: Path):
        self.con = duckdb.connect(str(path), read_only=True)

    def query(self, stmt, sql_bind_parameter_set=None) -> MetricFlowDataTable:
        cursor = self.con.execute(stmt)
        return MetricFlowDataTable.create_from_rows([d[0] for d in cursor.description], cursor.fetchall())

    def execute(self, stmt, sql_bind_parameter_set=None) -> None:
        self.con.execute(stmt)

    def dry_run(self, stmt, sql_bind_parameter_set=None) -> None:
        self.con.execute(f"explain {stmt}")

    def close(self) -> None:
        self.con.close()

    def render_bind_parameter_key(self, bind_parameter_key: str) -> str:
        return f"${bind_parameter_key}"


class Layer:
    """MetricFlow on one build, and the same build's marts for the direct SQL."""

    def __init__(self, layout):
        manifest_path = Path(layout.dbt_dir) / "target" / "semantic_manifest.json"
        self.manifest = parse_manifest_from_dbt_generated_manifest(manifest_path.read_text())
        self.client = DuckDbClient(layout.warehouse)
        self.engine = MetricFlowEngine(SemanticManifestLookup(self.manifest), self.client)

    def query(self, metrics: list[str], group_by: list[str] = ()) -> list[dict]:
        request = MetricFlowQueryRequest.create(metric_names=metrics, group_by_names=list(group_by) or None)
        table = self.engine.query(request).result_df
        return [dict(zip(table.column_names, row)) for row in table.rows]

    def value(self, metric: str):
        (row,) = self.query([metric])
        return row[metric]

    def sql(self, statement: str) -> list[dict]:
        cursor = self.client.con.execute(statement)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


@pytest.fixture(scope="module")
def lpoint_layer(lpoint_build):
    layer = Layer(lpoint_build)
    yield layer
    layer.client.close()


@pytest.fixture(scope="module")
def cdnow_layer(cdnow_sample_build):
    layer = Layer(cdnow_sample_build)
    yield layer
    layer.client.close()


def _issues(results: SemanticManifestValidationResults) -> list[str]:
    return [issue.as_readable_str() for issue in results.all_issues if issue.level.name in ("ERROR", "FUTURE_ERROR")]


def test_definitions_pass_metricflows_validation_and_the_warehouse_checks(lpoint_layer):
    """What `mf validate-configs` runs: the semantic rules, then each semantic model, dimension,
    entity, measure and metric queried on the warehouse."""
    semantic = SemanticManifestValidator().validate_semantic_manifest(lpoint_layer.manifest)
    assert _issues(semantic) == []
    warehouse = DataWarehouseModelValidator(sql_client=lpoint_layer.client)
    for check in (
        warehouse.validate_semantic_models,
        warehouse.validate_dimensions,
        warehouse.validate_entities,
        warehouse.validate_simple_metrics,
        warehouse.validate_metrics,
    ):
        assert _issues(check(lpoint_layer.manifest)) == [], check.__name__
    names = {m.name for m in lpoint_layer.manifest.metrics}
    kpis = {"customers", "spend", "mean_spend_per_customer", "mean_clv_12m", "cohort_retention"}
    assert kpis | {"recommendation_hit_rate"} <= names
    assert all(m.description for m in lpoint_layer.manifest.metrics)
    assert all(x.description for s in lpoint_layer.manifest.semantic_models for x in s.measures)


# metric -> the same number in SQL on the mart the dashboard reads
TOTALS = {
    "customers": "select count(*) from marts.customer_rfm",
    "spend": "select sum(spend) from marts.sales_daily",
    "customer_spend": "select sum(total_spend) from marts.customer_rfm",
    "purchases": "select sum(n_receipts) from marts.customer_rfm",
    "mean_spend_per_customer": "select avg(total_spend) from marts.customer_rfm",
    "mean_spend_per_purchase": "select sum(total_spend) / sum(n_receipts) from marts.customer_rfm",
    "mean_clv_12m": "select avg(clv_12m) from marts.customer_clv",
    "lpay_client_ratio": "select count(*) filter (where lpay_payments > 0) / count(*) from marts.customer_rfm",
    "lpay_transaction_ratio": "select sum(lpay_receipts) / sum(n_receipts) from marts.customer_rfm",
    "lpay_spend_share": "select sum(lpay_spend) / sum(total_spend) from marts.customer_rfm",
    "next_month_retention": (
        "select sum(active_customers) / sum(cohort_size) from marts.customer_cohorts where months_since_first = 1"
    ),
}


@pytest.mark.parametrize("metric", sorted(TOTALS))
def test_each_kpi_equals_its_sql_on_the_mart(lpoint_layer, metric):
    (expected,) = lpoint_layer.sql(TOTALS[metric])[0].values()
    assert lpoint_layer.value(metric) == pytest.approx(float(expected), rel=1e-9)


def _by(rows: list[dict], keys: list[str], value: str) -> dict:
    return {tuple(str(r[k]) for k in keys): pytest.approx(float(r[value]), rel=1e-9) for r in rows}


def test_spend_by_month_and_channel_equals_sales_daily(lpoint_layer):
    got = lpoint_layer.query(["spend"], ["metric_time__month", "sales_cell__channel"])
    expected = lpoint_layer.sql(
        "select cast(date_trunc('month', purchase_date) as timestamp) as month, channel, sum(spend) as spend "
        "from marts.sales_daily group by all"
    )
    assert _by(got, ["metric_time__month", "sales_cell__channel"], "spend") == _by(
        expected, ["month", "channel"], "spend"
    )


def test_cohort_retention_per_cell_equals_customer_cohorts(lpoint_layer):
    got = lpoint_layer.query(["cohort_retention"], ["metric_time__month", "cohort_cell__months_since_first"])
    expected = lpoint_layer.sql(
        "select cast(cohort_month as timestamp) as month, months_since_first, retention_rate "
        "from marts.customer_cohorts"
    )
    assert len(got) == len(expected) > 1
    assert _by(got, ["metric_time__month", "cohort_cell__months_since_first"], "cohort_retention") == _by(
        expected, ["month", "months_since_first"], "retention_rate"
    )


def test_mean_clv_by_tier_and_online_grade_joins_the_customer_marts(lpoint_layer):
    by_tier = lpoint_layer.query(["mean_clv_12m"], ["customer_profile__tier"])
    expected = lpoint_layer.sql("select tier, avg(clv_12m) as clv from marts.customer_360 group by tier")
    assert _by(by_tier, ["customer_profile__tier"], "mean_clv_12m") == _by(expected, ["tier"], "clv")
    by_grade = lpoint_layer.query(["mean_clv_12m"], ["customer__online_grade"])
    expected = lpoint_layer.sql(
        "select online_grade, avg(clv.clv_12m) as clv from marts.customer_clv as clv "
        "join marts.customer_rfm using (customer_id) group by online_grade"
    )
    assert _by(by_grade, ["customer__online_grade"], "mean_clv_12m") == _by(expected, ["online_grade"], "clv")


def test_recommendation_hit_rate_equals_model_metrics(lpoint_layer):
    keys = ["model_evaluation__model_name", "model_evaluation__cutoff_k", "model_evaluation__split"]
    got = lpoint_layer.query(["recommendation_hit_rate"], keys)
    expected = lpoint_layer.sql(
        "select model_name, k, split, value from marts.model_metrics where metric = 'hit_rate' and value is not null"
    )
    assert len(expected) > 0
    assert _by(got, keys, "recommendation_hit_rate") == _by(expected, ["model_name", "k", "split"], "value")


@pytest.mark.parametrize("dataset", ["lpoint", "cdnow_sample"])
def test_dashboard_definitions_equal_metricflow(dataset, request):
    """dashboard/metric_layer.py compiles every simple and ratio metric of one mart to SQL; on
    L.Point and on CDNOW (whose L.Pay columns are null) each equals MetricFlow's answer."""
    layer = request.getfixturevalue("lpoint_layer" if dataset == "lpoint" else "cdnow_layer")
    compiled = metric_layer.definitions()
    assert {"customers", "spend", "mean_spend_per_customer", "mean_clv_12m", "purchases"} <= set(compiled)
    for name, m in compiled.items():
        if not layer.sql(f"select 1 from information_schema.tables where table_name = '{m.mart}'"):
            continue  # a mart the dataset does not build
        (ours,) = layer.sql(f"select {m.sql} as v from marts.{m.mart}")[0].values()
        theirs = layer.value(name)
        if theirs is None:
            assert ours is None, name
        else:
            assert ours == pytest.approx(float(theirs), rel=1e-9), name


def test_docs_describe_every_metric():
    """docs/metrics.md names every metric of the layer (a metric added without docs fails)."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text(encoding="utf-8")
    defined = yaml.safe_load(metric_layer.SEMANTIC_YML.read_text(encoding="utf-8"))["metrics"]
    assert [m["name"] for m in defined if f"`{m['name']}`" not in doc] == []
