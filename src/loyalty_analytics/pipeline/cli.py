"""python -m loyalty_analytics.pipeline: run the stages, print the summary; exit 0, 1 (a stage
failed) or 128 + the signal number (stopped by SIGTERM / SIGINT)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from .layout import DATASETS, Layout
from .processes import Interrupted
from .runner import run
from .summary import print_summary


def main(argv: list[str] | None = None) -> int:
    from loyalty_analytics import pipeline  # the package doc is the help text

    parser = argparse.ArgumentParser(
        prog="python -m loyalty_analytics.pipeline",
        description=pipeline.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--dataset",
        default="lpoint",
        help=f"{', '.join(DATASETS)}, or a mapping config of the generic contract: the name of "
        "datasets/<name>.yml (online_retail, completejourney) or a path to a .yml",
    )
    parser.add_argument(
        "--source-dir",
        type=Path,
        default=None,
        help="a mapping config's files (default: $LOYALTY_SOURCE_DIR, else ../shared/data/real/<name> "
        "beside the repository, else the config's python_package)",
    )
    parser.add_argument(
        "--sample-customers",
        type=int,
        default=None,
        metavar="N",
        help="a mapping config: build every line of N of its customers (deterministic) into <name>_sample files",
    )
    parser.add_argument("--customers", type=int, default=3000, help="demo size when data is generated")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument(
        "--regenerate",
        action="store_true",
        help="generate new raw files even if some exist; only into a folder the generator "
        "created, and only over its own unchanged files",
    )
    parser.add_argument("--no-publish", action="store_true")
    parser.add_argument("--report-json", type=Path, default=None, help="write stage timings here")
    args = parser.parse_args(argv)
    layout = Layout.for_dataset(
        args.dataset, args.data_dir, args.source_dir, args.sample_customers
    )  # an unknown dataset exits here
    try:
        report = run(
            args.dataset,
            args.customers,
            args.seed,
            args.data_dir,
            args.regenerate,
            publish=not args.no_publish,
            source_dir=args.source_dir,
            sample_customers=args.sample_customers,
        )
    except Interrupted as stop:
        print(
            f"\nStopped by {stop}: the running stage and its processes were ended. "
            "Run the same command again to start over.",
            file=sys.stderr,
            flush=True,
        )
        return 128 + stop.signum
    print_summary(report, layout)
    if args.report_json:
        args.report_json.write_text(json.dumps(asdict(report), indent=2))
    return 0 if report.ok else 1
