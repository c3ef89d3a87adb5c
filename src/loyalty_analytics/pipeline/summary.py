"""What the pipeline prints after a build: the quarantined input rows and the stage timings."""

from __future__ import annotations

from pathlib import Path

from .layout import Layout
from .lock import print_lock_holder
from .stages import PipelineReport


def print_quarantine_counts(warehouse: Path) -> None:
    """The build continues without quarantined rows; say how many and why."""
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        print_lock_holder(warehouse, read_only=True)
        return
    try:
        rows = con.sql(
            "select source_file, quarantine_reason, count(*) from intermediate.int_quarantined_rows "
            "group by all order by all"
        ).fetchall()
    except duckdb.Error:
        return  # model not built in this selection
    finally:
        con.close()
    if not rows:
        print("Quarantine: no input rows set aside.")
        return
    print("Quarantine: input rows set aside (see intermediate.int_quarantined_rows):")
    for source_file, reason, count in rows:
        print(f"  {source_file:<32} {reason:<24} {count:>8}")


def print_summary(report: PipelineReport, layout: Layout) -> None:
    print("\nStage timings:")
    for s in report.stages:
        print(f"  {s.name:<20} {s.seconds:>8.1f} s   peak RSS ≤ {s.peak_rss_mb:>8.0f} MB   exit {s.returncode}")
    if report.ok:
        print(f"\nWarehouse (build file): {layout.warehouse}  — schema `marts`")
        print(f"Published, validated marts for BI tools: {layout.published_dir / 'current'}")
        print(f"dbt docs: make docs   |   query: duckdb -readonly {layout.warehouse}")
    else:
        print("\nThe pipeline stopped at the failed stage above.")
