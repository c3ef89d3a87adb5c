"""The main job, stage by stage: generate demo data (if no raw files) → ingest checks →
dbt seed + build → validate and publish. Used by `make demo`, the tests and the benchmark.

Each stage runs as a child process so its wall time and peak memory (max RSS) can be
reported on their own; the summary is printed and returned.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from loyalty_analytics import paths

LPOINT_FILES = (
    "LPOINT_BIG_COMP_01_DEMO.csv",
    "LPOINT_BIG_COMP_02_PDDE.csv",
    "LPOINT_BIG_COMP_03_COP_U.csv",
    "LPOINT_BIG_COMP_04_PD_CLAC.csv",
    "LPOINT_BIG_COMP_05_BR.csv",
    "LPOINT_BIG_COMP_06_LPAY.csv",
)
DATASETS = ("lpoint", "cdnow", "cdnow_sample")


@dataclass
class StageResult:
    name: str
    seconds: float
    peak_rss_mb: float
    returncode: int


@dataclass
class Layout:
    """Where one dataset's files go. The CDNOW datasets get their own warehouse file
    (data/cdnow.duckdb) so they never overwrite the L.Point build."""

    dataset: str
    data_dir: Path
    raw_dir: Path
    truth_dir: Path
    prepared_dir: Path
    warehouse: Path
    published_dir: Path

    @property
    def dbt_dir(self) -> Path:
        """dbt's target/ and logs/: the project's own for the default data folder, else one
        beside the data, so concurrent builds (tests, benchmarks) never share dbt state."""
        if self.data_dir == (paths.PROJECT_ROOT / "data").resolve():
            return paths.PROJECT_ROOT
        return self.data_dir / "dbt"

    def dbt_args(self) -> list[str]:
        target = os.environ.get("DBT_TARGET_PATH") or str(self.dbt_dir / "target")
        logs = os.environ.get("DBT_LOG_PATH") or str(self.dbt_dir / "logs")
        return ["--project-dir", str(paths.PROJECT_ROOT), "--profiles-dir", str(paths.PROJECT_ROOT / "profiles"),
                "--target-path", target, "--log-path", logs]

    @classmethod
    def for_dataset(cls, dataset: str, data_dir: Path | None = None) -> "Layout":
        if dataset not in DATASETS:
            raise SystemExit(f"unknown dataset {dataset!r}: use one of {', '.join(DATASETS)}")
        data = Path(data_dir).resolve() if data_dir else paths.data_dir()
        if dataset == "lpoint":
            return cls(
                dataset,
                data,
                Path(os.environ.get("LOYALTY_RAW_DIR", data / "raw")).resolve(),
                Path(os.environ.get("LOYALTY_TRUTH_DIR", data / "truth")).resolve(),
                data / "prepared",
                Path(os.environ.get("LOYALTY_DUCKDB_PATH", data / "warehouse.duckdb")).resolve(),
                data / "published",
            )
        stem = "cdnow" if dataset == "cdnow" else "cdnow_sample"
        return cls(
            dataset,
            data,
            data / "raw",
            data / "truth_none",
            data / f"prepared_{stem}",
            data / f"{stem}.duckdb",
            data / f"published_{stem}",
        )

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            LOYALTY_DATA_DIR=str(self.data_dir),
            LOYALTY_RAW_DIR=str(self.raw_dir),
            LOYALTY_TRUTH_DIR=str(self.truth_dir),
            LOYALTY_PREPARED_DIR=str(self.prepared_dir),
            LOYALTY_DUCKDB_PATH=str(self.warehouse),
            LOYALTY_DATASET=self.dataset,
            DBT_SEND_ANONYMOUS_USAGE_STATS="False",
            GX_ANALYTICS_ENABLED="False",
            DBT_PROFILES_DIR=str(paths.PROJECT_ROOT / "profiles"),
        )
        return env


@dataclass
class PipelineReport:
    dataset: str
    warehouse: str
    stages: list[StageResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(stage.returncode == 0 for stage in self.stages)


def _bin(name: str) -> str:
    """A console script of the interpreter's own environment (the project venv)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def run_stage(
    name: str,
    command: list[str],
    env: dict[str, str],
    report: PipelineReport,
    memory_sampler: Callable[[int], Callable[[], float | None]] | None = None,
) -> StageResult:
    """Run one stage as a child process. `memory_sampler(pid)`, if given, starts sampling the
    child's process tree and returns a `stop()` that gives the stage's peak RSS in MB; without
    it the peak is the cumulative ru_maxrss of all children (an upper bound)."""
    print(f"\n==> {name}: {' '.join(command)}", flush=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    sampled_peak_mb = None
    with subprocess.Popen(command, env=env, cwd=paths.PROJECT_ROOT) as process:
        stop_sampler = memory_sampler(process.pid) if memory_sampler else None
        try:
            returncode = process.wait()
        except BaseException:
            process.kill()
            raise
        finally:
            if stop_sampler:
                sampled_peak_mb = stop_sampler()
    seconds = time.perf_counter() - start
    # ru_maxrss of children is the max over all children so far (KiB on Linux); a stage
    # smaller than an earlier one reports the earlier peak, so the figure is an upper bound.
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    peak_mb = sampled_peak_mb if sampled_peak_mb is not None else max(peak, before) / 1024
    result = StageResult(name, round(seconds, 2), round(peak_mb, 1), returncode)
    report.stages.append(result)
    status = "ok" if returncode == 0 else f"FAILED (exit {returncode})"
    print(f"<== {name}: {status} in {seconds:.1f} s", flush=True)
    return result


def dbt_vars(layout: Layout, extra: dict | None = None) -> str:
    variables = {"dataset": layout.dataset}
    variables.update(extra or {})
    return json.dumps(variables)


def raw_files_present(raw_dir: Path) -> bool:
    return all((raw_dir / name).exists() for name in LPOINT_FILES)


def run(
    dataset: str = "lpoint",
    customers: int = 3000,
    seed: int = 42,
    data_dir: Path | None = None,
    regenerate: bool = False,
    dbt_extra_vars: dict | None = None,
    publish: bool = True,
    dbt_select: str | None = None,
    memory_sampler: Callable[[int], Callable[[], float | None]] | None = None,
) -> PipelineReport:
    layout = Layout.for_dataset(dataset, data_dir)
    env = layout.env()
    py = sys.executable
    report = PipelineReport(dataset=dataset, warehouse=str(layout.warehouse))
    layout.data_dir.mkdir(parents=True, exist_ok=True)

    def stage(name: str, command: list[str]) -> bool:
        return run_stage(name, command, env, report, memory_sampler).returncode == 0

    if dataset == "lpoint" and (regenerate or not raw_files_present(layout.raw_dir)):
        if not stage(
            "generate",
            [py, "-m", "loyalty_analytics.generator", "--customers", str(customers), "--seed", str(seed),
             "--out-raw", str(layout.raw_dir), "--out-truth", str(layout.truth_dir)],
        ):
            return report
    elif dataset == "lpoint":
        print(f"Using the raw files in {layout.raw_dir} (delete them or pass --regenerate to generate new ones).")

    if not stage(
        "ingest",
        [py, "-m", "loyalty_analytics.ingest", "--dataset", dataset,
         "--raw-dir", str(layout.raw_dir), "--out", str(layout.prepared_dir)],
    ):
        return report

    dbt = _bin("dbt")
    build = [dbt, "build", *layout.dbt_args(), "--vars", dbt_vars(layout, dbt_extra_vars)]
    if dbt_select:
        # cautious: only tests whose every parent is selected
        build += ["--select", dbt_select, "--indirect-selection", "cautious"]
    if not stage("dbt build", build):
        return report
    if dataset == "lpoint":
        print_quarantine_counts(layout.warehouse)

    if publish:
        stage(
            "validate + publish",
            [py, "-m", "loyalty_analytics.publish", "--warehouse", str(layout.warehouse),
             "--out", str(layout.published_dir)],
        )
    return report


def print_quarantine_counts(warehouse: Path) -> None:
    """The build continues without quarantined rows; say how many and why."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="lpoint", choices=DATASETS)
    parser.add_argument("--customers", type=int, default=3000, help="demo size when data is generated")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--regenerate", action="store_true", help="generate new raw files even if some exist")
    parser.add_argument("--no-publish", action="store_true")
    parser.add_argument("--report-json", type=Path, default=None, help="write stage timings here")
    args = parser.parse_args(argv)
    report = run(args.dataset, args.customers, args.seed, args.data_dir, args.regenerate,
                 publish=not args.no_publish)
    print_summary(report, Layout.for_dataset(args.dataset, args.data_dir))
    if args.report_json:
        args.report_json.write_text(json.dumps(asdict(report), indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
