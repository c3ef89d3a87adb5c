"""What the pipeline prints after a build: the quarantined input rows, the stage table (time and
memory per stage), dbt's results counted per resource type, and where to query the release."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from loyalty_analytics import paths
from loyalty_analytics.publish import CURRENT, SERVING_DB

from .layout import Layout
from .lock import print_lock_holder
from .stages import PipelineReport


def _counts(con, sql: str) -> list[tuple] | None:
    import duckdb

    try:
        return con.sql(sql).fetchall()
    except duckdb.Error:
        return None  # model not built in this selection


def print_quarantine_counts(warehouse: Path) -> None:
    """The build continues without quarantined rows and without returns; say how many and why."""
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        print_lock_holder(warehouse, read_only=True)
        return
    try:
        quarantined = _counts(
            con,
            "select source_file, quarantine_reason, count(*) from intermediate.int_quarantined_rows "
            "group by all order by all",
        )
        returns = _counts(
            con,
            "select count(*), count(distinct customer_id), count(*) filter (where is_cancellation_receipt) "
            "from intermediate.int_returns",
        )
    finally:
        con.close()
    if quarantined == []:
        print("Quarantine: no input rows set aside.")
    elif quarantined:
        print("Quarantine: input rows set aside (see intermediate.int_quarantined_rows):")
        for source_file, reason, count in quarantined:
            print(f"  {source_file:<32} {reason:<24} {count:>8}")
    if returns and returns[0][0]:
        lines, customers, cancellations = returns[0]
        print(
            f"Returns: {lines:,} returned lines of {customers:,} customers ({cancellations:,} on cancellation "
            "receipts) set apart, never purchases (see intermediate.int_returns)."
        )


DBT_BUILD_STAGE = "dbt build"  # the stage names in runner
PUBLISH_STAGE = "validate + publish"
# dbt's statuses in the order the summary lists them (others follow alphabetically)
DBT_STATUS_ORDER = ("success", "pass", "warn", "fail", "error", "skipped")


def dbt_run_results(layout: Layout) -> Path:
    """The run_results.json of the layout's last dbt command."""
    return layout.target_path / "run_results.json"


def count_dbt_results(run_results: Path) -> tuple[dict[str, Counter], list[str]]:
    """dbt's results per resource type (model, test, unit_test, seed) and status, and the nodes
    that warned or failed with their message."""
    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    counts: dict[str, Counter] = {}
    attention = []
    for result in results:
        kind, _, name = result["unique_id"].partition(".")
        counts.setdefault(kind, Counter())[result["status"]] += 1
        if result["status"] in ("warn", "fail", "error"):
            message = (result.get("message") or "").splitlines()[0:1]
            attention.append(f"{result['status']:<5} {kind} {name.partition('.')[2]}: {''.join(message)}")
    return counts, attention


def print_dbt_results(layout: Layout, shown: int = 10) -> None:
    """One line per resource type: how many passed, warned, failed, errored or were skipped."""
    path = dbt_run_results(layout)
    if not path.is_file():
        return
    counts, attention = count_dbt_results(path)
    print("\ndbt build results:")
    for kind in sorted(counts):
        by_status = counts[kind]
        order = [s for s in DBT_STATUS_ORDER if s in by_status] + sorted(set(by_status) - set(DBT_STATUS_ORDER))
        print(f"  {kind:<10} {sum(by_status.values()):>5}   " + ", ".join(f"{by_status[s]} {s}" for s in order))
    for line in attention[:shown]:
        print(f"  {line}")
    if len(attention) > shown:
        print(f"  … and {len(attention) - shown} more (see {path})")


def print_stage_table(report: PipelineReport) -> None:
    """Wall time and peak memory of each stage (sampled over the stage's process tree when a
    sampler is given, else an upper bound: the largest child process so far)."""
    print("\nStages:")
    print(f"  {'stage':<20} {'seconds':>8}   {'peak RSS MB':>11}   exit")
    for s in report.stages:
        print(f"  {s.name:<20} {s.seconds:>8.1f}   {s.peak_rss_mb:>11,.0f}   {s.returncode:>4}")


def print_where_to_query(report: PipelineReport, layout: Layout) -> None:
    """The published release first (what analysts and BI tools read, any DuckDB >= 1.4), the build
    file second (dbt's own file, written by the DuckDB of the build; older clients cannot open it)."""
    current = layout.published_dir / CURRENT
    if not (current / SERVING_DB).is_file():
        print(f"\nNothing published in {current} yet: `make publish` validates and publishes the build file.")
    else:
        if not any(stage.name == PUBLISH_STAGE for stage in report.stages):
            print("\nNot published by this run (`make publish` does it); the current release is an earlier one.")
        print(f"\nQuery the published release (validated; open it read-only): {current}")
        print(f"  DuckDB:  {current / SERVING_DB}   schema marts   e.g. {_sql_command(layout)}")
        print(f"  Parquet: {current}/<mart>.parquet")
    print(f"For dbt users, the build file: {layout.warehouse}   (make docs: the dbt docs as one HTML file)")


def _sql_command(layout: Layout) -> str:
    """The README's shell on the release: make sql for the project's data folder, else the CLI."""
    if layout.data_dir != (paths.PROJECT_ROOT / "data").resolve():
        return f".venv/bin/duckdb -readonly {layout.published_dir / CURRENT / SERVING_DB}"
    suffix = layout.published_dir.name.removeprefix("published").removeprefix("_")
    return f"make sql DATASET={suffix}" if suffix else "make sql"


def print_summary(report: PipelineReport, layout: Layout) -> None:
    print_stage_table(report)
    if any(stage.name == DBT_BUILD_STAGE for stage in report.stages):
        print_dbt_results(layout)
    if report.ok:
        print_where_to_query(report, layout)
    else:
        print("\nThe pipeline stopped at the failed stage above.")
