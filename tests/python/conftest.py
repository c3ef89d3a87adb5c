"""Shared fixtures: small warehouses built end to end with the same pipeline `make demo`
runs (generator → ingest → dbt build → validate + publish), once per test session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb
import pytest

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
sys.path.insert(0, str(Path(__file__).parent))  # shared fixture modules (recsys_fixtures)

# Small enough for CI, large enough for the models to find structure.
TEST_CUSTOMERS = int(os.environ.get("LOYALTY_TEST_CUSTOMERS", "1500"))
TEST_SEED = 7


def _build(dataset: str, data_dir: Path, **kwargs):
    from loyalty_analytics import pipeline

    report = pipeline.run(dataset, customers=TEST_CUSTOMERS, seed=TEST_SEED, data_dir=data_dir, **kwargs)
    assert report.ok, f"pipeline failed for {dataset}: {report.stages}"
    return pipeline.Layout.for_dataset(dataset, data_dir)


@pytest.fixture(scope="session")
def lpoint_build(tmp_path_factory):
    """A generated L.Point warehouse (TEST_CUSTOMERS customers), built and published."""
    return _build("lpoint", tmp_path_factory.mktemp("lpoint"))


@pytest.fixture(scope="session")
def cdnow_sample_build(tmp_path_factory):
    """The CDNOW 1/10 sample warehouse, built and published."""
    return _build("cdnow_sample", tmp_path_factory.mktemp("cdnow_sample"))


def connect(layout) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(layout.warehouse), read_only=True)


def execute_sql(path, *statements) -> None:
    """Run statements against a DuckDB file (tests inject defects this way)."""
    con = duckdb.connect(str(path))
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()
