"""python -m loyalty_analytics.ingest: exit 0 with one line per file, or 2 with the input error."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loyalty_analytics.contract import DATASETS

from .errors import InputError
from .preflight import REPORT_NAME, prepare


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loyalty_analytics.ingest",
        description="Check raw input files and write UTF-8 prepared inputs for dbt.",
    )
    parser.add_argument(
        "--dataset",
        default="lpoint",
        help=f"{', '.join(DATASETS)}, or a mapping config: the name of datasets/<name>.yml or a path to a .yml",
    )
    parser.add_argument(
        "--raw-dir",
        "--source-dir",
        type=Path,
        default=None,
        help="raw files (default: loyalty_analytics.paths.raw_dir(); for a mapping config "
        "$LOYALTY_SOURCE_DIR, else ../shared/data/real/<name> beside the repository, else its python_package)",
    )
    parser.add_argument(
        "--out", type=Path, default=None, help="prepared files (default: loyalty_analytics.paths.prepared_dir())"
    )
    parser.add_argument(
        "--sample-customers",
        type=int,
        default=None,
        metavar="N",
        help="mapping configs only: keep every line of N customers (a deterministic sample by md5 of the id)",
    )
    args = parser.parse_args(argv)
    try:
        report = prepare(
            args.dataset,
            args.raw_dir,
            args.out,
            log=lambda m: print(m, flush=True),
            sample_customers=args.sample_customers,
        )
    except InputError as exc:
        print(f"ingest: input error: {exc}", file=sys.stderr)
        return 2
    print(
        f"ingest: {len(report['files'])} file(s) OK in {report['seconds']:.2f} s -> "
        f"{report['out_dir']} (report: {REPORT_NAME})"
    )
    return 0
