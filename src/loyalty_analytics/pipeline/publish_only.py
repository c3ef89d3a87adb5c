"""python -m loyalty_analytics.pipeline.publish_only [--dataset NAME] [--data-dir DIR]: the
pipeline's last stage alone (validate + publish), for a build file made by a hand-run
`dbt build`. Same stage, same files as `make demo` (the dataset's build file and release folder),
same closing summary; exit 0, or 1 if validation failed or the build file cannot be read."""

from __future__ import annotations

import argparse
from pathlib import Path

from .layout import Layout
from .runner import validate_and_publish
from .stages import MemorySampler, PipelineReport
from .summary import print_summary


def publish_only(
    dataset: str = "lpoint", data_dir: Path | None = None, memory_sampler: MemorySampler | None = None
) -> PipelineReport:
    """Validate and publish the dataset's build file as the pipeline's last stage does."""
    return validate_and_publish(Layout.for_dataset(dataset, data_dir), memory_sampler)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loyalty_analytics.pipeline.publish_only", description=__doc__)
    parser.add_argument("--dataset", default="lpoint", help="lpoint, cdnow, cdnow_sample or a mapping config")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    layout = Layout.for_dataset(args.dataset, args.data_dir)  # an unknown dataset exits here
    if not layout.warehouse.exists():
        print(f"error: no build file {layout.warehouse}: run dbt build (or make demo) first")
        return 1
    report = publish_only(args.dataset, args.data_dir)
    print_summary(report, layout)
    return 0 if report.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
