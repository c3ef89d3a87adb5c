"""CLI: python -m loyalty_analytics.generator --customers N --seed S --out-raw DIR --out-truth DIR

Writes only into a new or empty folder, or one the generator created (marker file
.generated-by-loyalty-analytics; there it replaces only its own, unchanged files). Any
other folder is refused with exit code 2 before anything is written (see marker.py)."""

from __future__ import annotations

import argparse
import json
import sys

from loyalty_analytics import paths

from .marker import OutputFolderError
from .pipeline import generate


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m loyalty_analytics.generator",
        description="Generate the six LPOINT_BIG_COMP files + planted ground truth.",
    )
    ap.add_argument("--customers", type=int, default=30000, help="number of customers (default 30000 = real scale)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--out-raw", default=None, help=f"default {paths.raw_dir()}")
    ap.add_argument("--out-truth", default=None, help=f"default {paths.truth_dir()}")
    a = ap.parse_args(argv)
    if a.customers < 1:
        ap.error("--customers must be >= 1")
    raw = a.out_raw or paths.raw_dir()
    truth = a.out_truth or paths.truth_dir()
    try:
        s = generate(a.customers, a.seed, raw, truth, log=lambda m: print(m, flush=True))
    except OutputFolderError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"[generator] raw files  -> {raw}")
    print(f"[generator] truth      -> {truth}")
    print(json.dumps({"rows": s["rows"], "seconds": s["seconds"]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
