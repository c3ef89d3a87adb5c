"""python -m loyalty_analytics.validation [--warehouse PATH] [--gx-dir DIR] [--no-docs] [--json FILE]

Validates every mart of the build DuckDB file (opened read-only) and prints a summary.
Exit 0 all expectations passed, 1 some failed, 2 the warehouse could not be opened.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

from .. import paths
from .report import format_summary
from .runner import validate_warehouse


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m loyalty_analytics.validation", description="Validate the marts with Great Expectations."
    )
    ap.add_argument(
        "--warehouse", type=Path, default=None, help=f"build DuckDB file (default {paths.warehouse_path()})"
    )
    ap.add_argument("--gx-dir", type=Path, default=None, help="GX project folder (default gx/ or $LOYALTY_GX_DIR)")
    ap.add_argument("--no-docs", action="store_true", help="skip building Data Docs")
    ap.add_argument(
        "--mart", action="append", default=None, metavar="NAME", help="validate only this mart (repeatable)"
    )
    ap.add_argument("--json", type=Path, default=None, help="also write the report as JSON")
    args = ap.parse_args(argv)
    warehouse = args.warehouse or paths.warehouse_path()
    if not warehouse.exists():
        print(f"error: warehouse {warehouse} not found (run dbt build first)", file=sys.stderr)
        return 2
    try:
        report = validate_warehouse(
            warehouse,
            gx_root=args.gx_dir.resolve() if args.gx_dir else None,
            build_docs=not args.no_docs,
            only=args.mart,
        )
    except duckdb.IOException as exc:
        print(f"error: cannot open {warehouse} read-only (is dbt writing it?): {exc}", file=sys.stderr)
        return 2
    print(format_summary(report))
    if args.json:
        args.json.write_text(json.dumps(report.to_dict(), indent=2, default=str))
    return 0 if report.success else 1


if __name__ == "__main__":
    sys.exit(main())
