"""`make bench` keeps working: the benchmark harness at a tiny size (300 customers, SQL
feature marts only, no GX) writes its report with the stage table, the dbt timings and the
feature layer timed three ways (dbt SQL alone, DuckDB reference, pandas peer) with both ratios."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for `bench`
from bench import run as bench_run  # noqa: E402


@pytest.mark.slow
def test_bench_smoke(tmp_path):
    out = tmp_path / "results"
    code = bench_run.main(["--customers", "300", "--sql-only", "--skip-gx", "--out", str(out)])
    assert code == 0, (out / "latest.md").read_text() if (out / "latest.md").exists() else "no report"

    reports = sorted(out.glob("*_300.md"))
    assert len(reports) == 1 and (out / "latest.md").exists()
    text = reports[0].read_text()
    assert "| stage | wall s | peak RSS MB | status |" in text
    for stage in ("generate", "ingest", "dbt build"):
        assert f"| {stage} |" in text
    assert "FAILED" not in text
    assert "dbt / reference" in text and "pandas / dbt" in text and "Rows per mart" in text and "## Machine" in text

    record = json.loads(reports[0].with_suffix(".json").read_text())
    run = record["runs"][0]
    assert run["pipeline_ok"] and run["customers"] == 300
    assert all(s["peak_rss_mb"] and s["peak_rss_mb"] > 0 for s in run["stages"])
    assert run["dbt"]["totals"]["sql model"]["count"] > 0
    assert run["marts"]["customer_rfm"] > 0
    assert run["peer"]["total_seconds"] > 0 and run["peer"]["sql"]["total"] > 0
    assert run["peer"]["reference"]["total_seconds"] > 0
    assert all(run["peer"]["reference"]["checksums_equal"].values()) and all(run["peer"]["checksums_equal"].values())
    # big data is deleted after the run
    assert not (out / "tmp" / "data_300").exists()
