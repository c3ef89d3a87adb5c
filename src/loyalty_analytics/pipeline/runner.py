"""run(): the stages in order (generate → ingest → dbt build → validate + publish), stopping at
the first that fails."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from .layout import Layout, dbt_vars
from .lock import print_lock_holder, report_lock
from .raw_folder import RawFolderPlan, raw_folder_plan
from .stages import MemorySampler, PipelineReport, _bin, run_stage
from .summary import print_quarantine_counts

Stage = Callable[[str, list[str]], bool]  # runs one stage; True if it succeeded


def _generate_if_needed(stage: Stage, layout: Layout, customers: int, seed: int, regenerate: bool) -> bool:
    plan = (
        RawFolderPlan("generate", f"--regenerate: new demo data in {layout.raw_dir}.")
        if regenerate
        else raw_folder_plan(layout.raw_dir)
    )
    print(plan.message, flush=True)
    if plan.action != "generate":
        return True
    return stage(
        "generate",
        [
            sys.executable,
            "-m",
            "loyalty_analytics.generator",
            "--customers",
            str(customers),
            "--seed",
            str(seed),
            "--out-raw",
            str(layout.raw_dir),
            "--out-truth",
            str(layout.truth_dir),
        ],
    )


def _ingest(stage: Stage, layout: Layout) -> bool:
    return stage(
        "ingest",
        [sys.executable, "-m", "loyalty_analytics.ingest", *layout.ingest_args(), "--out", str(layout.prepared_dir)],
    )


def _dbt_build(
    stage: Stage, layout: Layout, report: PipelineReport, extra_vars: dict | None, select: str | None
) -> bool:
    build = [_bin("dbt"), "build", *layout.dbt_args(), "--vars", dbt_vars(layout, extra_vars)]
    if select:
        # cautious: only tests whose every parent is selected
        build += ["--select", select, "--indirect-selection", "cautious"]
    if report_lock(layout.warehouse, False, report):
        return False
    if not stage("dbt build", build):
        print_lock_holder(layout.warehouse, read_only=False)
        return False
    print_quarantine_counts(layout.warehouse)
    return True


def _validate_and_publish(stage: Stage, layout: Layout, report: PipelineReport) -> None:
    if report_lock(layout.warehouse, True, report):
        return
    if not stage(
        "validate + publish",
        [
            sys.executable,
            "-m",
            "loyalty_analytics.publish",
            "--warehouse",
            str(layout.warehouse),
            "--out",
            str(layout.published_dir),
        ],
    ):
        print_lock_holder(layout.warehouse, read_only=True)


def _stage_runner(layout: Layout, report: PipelineReport, memory_sampler: MemorySampler | None) -> Stage:
    """Runs a stage in the layout's environment and records it in ``report``."""
    env = layout.env()

    def stage(name: str, command: list[str]) -> bool:
        return run_stage(name, command, env, report, memory_sampler).returncode == 0

    return stage


def validate_and_publish(layout: Layout, memory_sampler: MemorySampler | None = None) -> PipelineReport:
    """The last stage alone (validate + publish the layout's build file), e.g. after a hand-run
    `dbt build` (`make publish`)."""
    report = PipelineReport(dataset=layout.dataset, warehouse=str(layout.warehouse))
    _validate_and_publish(_stage_runner(layout, report, memory_sampler), layout, report)
    return report


def run(
    dataset: str = "lpoint",
    customers: int = 3000,
    seed: int = 42,
    data_dir: Path | None = None,
    regenerate: bool = False,
    dbt_extra_vars: dict | None = None,
    publish: bool = True,
    dbt_select: str | None = None,
    memory_sampler: MemorySampler | None = None,
    source_dir: Path | None = None,
    sample_customers: int | None = None,
) -> PipelineReport:
    """Run the stages in order and stop at the first that fails. `dataset`: lpoint, cdnow,
    cdnow_sample or a mapping config (name or path; its files from `source_dir`, else found as
    ingest.mapping.source_dir says; `sample_customers`: every line of that many of its customers).
    `regenerate` generates new raw files even if some exist;
    the generator refuses a folder it did not create and replaces only its own files there.
    SIGTERM / SIGINT during a stage end the stage and raise Interrupted."""
    layout = Layout.for_dataset(dataset, data_dir, source_dir, sample_customers)
    report = PipelineReport(dataset=layout.dataset, warehouse=str(layout.warehouse))
    layout.data_dir.mkdir(parents=True, exist_ok=True)
    stage = _stage_runner(layout, report, memory_sampler)
    if dataset == "lpoint" and not _generate_if_needed(stage, layout, customers, seed, regenerate):
        return report
    if not _ingest(stage, layout):
        return report
    if not _dbt_build(stage, layout, report, dbt_extra_vars, dbt_select):
        return report
    if publish:
        _validate_and_publish(stage, layout, report)
    return report
