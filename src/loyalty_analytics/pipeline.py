"""The main job, stage by stage: generate demo data (if no raw files) → ingest checks →
dbt seed + build → validate and publish. Used by `make demo`, the tests and the benchmark.

Each stage runs as a child process so its wall time and peak memory (max RSS) can be
reported on their own; the summary is printed and returned.

Safety (docs/bad_input.md, "Your files and folders are never overwritten; kill and rerun"):

* demo data is generated only into a raw folder that is missing, empty, or marked as the
  generator's (generator/marker.py); a folder of other files is used as it is, and a partial
  set stops at the ingest check that names the missing files;
* each stage runs in its own process group: SIGTERM / SIGINT (Ctrl-C) to the pipeline is
  forwarded to the group, and the group is killed when the pipeline stops for any reason. On
  Linux the stage also gets PR_SET_PDEATHSIG, so even a SIGKILL of the pipeline kills it;
* a warehouse file locked by another process stops the run before the stage that needs it,
  with one line naming the file and the holder's PID.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from loyalty_analytics import paths
from loyalty_analytics.generator import marker

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


# ----------------------------------------------------------------------------- stages die with the pipeline

STOP_GRACE_SECONDS = 3.0  # after forwarding a signal, the stage gets this long before SIGKILL
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Interrupted(BaseException):
    """SIGTERM or SIGINT reached the pipeline; the running stage has been ended."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A preexec_fn (Linux) that makes the kernel SIGKILL the stage when the pipeline dies,
    even by SIGKILL, which no handler can forward. prctl is looked up here, in the parent, so
    the forked child only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
        if os.getppid() != parent:  # the pipeline died before prctl took effect
            os._exit(1)

    return preexec


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _end_stage(process: subprocess.Popen, signum: int = signal.SIGTERM) -> None:
    """Stop the stage's whole process group: `signum` first, SIGKILL after a grace period,
    and SIGKILL again for anything left in the group after its leader exited."""
    _signal_group(process.pid, signum)
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


class _StopSignals:
    """While a stage runs in the main thread: SIGTERM / SIGINT raise Interrupted there (the
    default SIGTERM action would end the pipeline without ending its stage). Elsewhere, and
    where SIGINT is ignored (background jobs), the handlers are left alone."""

    def __enter__(self) -> "_StopSignals":
        self.saved: dict[int, object] = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    self.saved[signum] = signal.signal(signum, self._raise)
        return self

    @staticmethod
    def _raise(signum: int, frame) -> None:
        raise Interrupted(signum)

    def ignore(self) -> None:
        """While the stage is being ended: a second Ctrl-C must not interrupt the cleanup."""
        for signum in self.saved:
            signal.signal(signum, signal.SIG_IGN)

    def __exit__(self, *exc) -> None:
        for signum, handler in self.saved.items():
            signal.signal(signum, handler)


def run_stage(
    name: str,
    command: list[str],
    env: dict[str, str],
    report: PipelineReport,
    memory_sampler: Callable[[int], Callable[[], float | None]] | None = None,
) -> StageResult:
    """Run one stage as a child process in its own process group, ended with the pipeline
    (see the module doc). `memory_sampler(pid)`, if given, starts sampling the
    child's process tree and returns a `stop()` that gives the stage's peak RSS in MB; without
    it the peak is the cumulative ru_maxrss of all children (an upper bound)."""
    print(f"\n==> {name}: {' '.join(command)}", flush=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    sampled_peak_mb = None
    # stdin from /dev/null: in its own process group a stage reading the terminal would be stopped
    with _StopSignals() as stop_signals, subprocess.Popen(
        command, env=env, cwd=paths.PROJECT_ROOT, stdin=subprocess.DEVNULL, process_group=0,
        preexec_fn=_die_with_parent_hook(),
    ) as process:
        stop_sampler = memory_sampler(process.pid) if memory_sampler else None
        try:
            returncode = process.wait()
        except BaseException as error:
            stop_signals.ignore()
            _end_stage(process, error.signum if isinstance(error, Interrupted) else signal.SIGTERM)
            raise
        finally:
            _signal_group(process.pid, signal.SIGKILL)  # anything the stage left behind in its group
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


# ----------------------------------------------------------------------------- warehouse lock

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<exe>.*?) \(PID (?P<pid>\d+)\)")


def _command_line(pid: int, fallback: str) -> str:
    import psutil

    try:
        command = " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return fallback
    return command if len(command) <= 160 else command[:157] + "..."


def warehouse_in_use(warehouse: Path, read_only: bool) -> str | None:
    """One line naming the process that holds a DuckDB lock on `warehouse`, or None if a
    stage could open it (read_only: as a reader; else as the writer, which any holder blocks).
    Other errors are left for the stage to report."""
    import duckdb

    if not Path(warehouse).exists():
        return None
    try:
        duckdb.connect(str(warehouse), read_only=read_only).close()
    except duckdb.Error as error:
        holder = _LOCK_HOLDER.search(str(error))
        if holder:
            pid = int(holder["pid"])
            return (f"error: {warehouse} is in use by another process "
                    f"(PID {pid}: {_command_line(pid, holder['exe'])}); close it or wait")
    return None


def _report_lock(warehouse: Path, read_only: bool, report: PipelineReport) -> bool:
    """Print the one line and record a failed check if the warehouse is locked."""
    message = warehouse_in_use(warehouse, read_only)
    if message:
        print(message, file=sys.stderr, flush=True)
        report.stages.append(StageResult("warehouse lock check", 0.0, 0.0, 1))
    return message is not None


def dbt_vars(layout: Layout, extra: dict | None = None) -> str:
    variables = {"dataset": layout.dataset}
    variables.update(extra or {})
    return json.dumps(variables)


@dataclass
class RawFolderPlan:
    action: str  # "generate", "reuse" (complete generated files) or "use" (files as they are)
    message: str


def raw_folder_plan(raw_dir: Path) -> RawFolderPlan:
    """What happens to the raw folder without --regenerate. Demo data is generated only into
    a missing or empty folder, or one whose generation was stopped half way (its marker says
    incomplete); any other folder is read as it is, and the ingest check names missing files."""
    raw_dir = Path(raw_dir)
    if not marker.user_entries(raw_dir):
        return RawFolderPlan("generate", f"No raw files in {raw_dir}: generating demo data.")
    found = marker.read_marker(raw_dir)
    if found is None:
        return RawFolderPlan("use", f"Using the raw files in {raw_dir} (not written by the generator: "
                                    "they are read, never changed).")
    if not found.get("complete"):
        return RawFolderPlan("generate", f"{raw_dir} holds a generator run that was stopped: generating again.")
    generated = [name for name in LPOINT_FILES
                 if (raw_dir / name).is_file() and marker.written_by_generator(raw_dir, name, found)]
    if len(generated) == len(LPOINT_FILES):
        return RawFolderPlan("reuse", f"Reusing the generated files in {raw_dir} ({found.get('customers')} "
                                      f"customers, seed {found.get('seed')}); pass --regenerate for new ones.")
    # e.g. real files copied over some of the demo files: say which are still demo data
    still_demo = f" Still generated demo data: {', '.join(generated)}." if generated else ""
    return RawFolderPlan("use", f"Using the raw files in {raw_dir} (some are missing or changed since the generator "
                                f"wrote them: they are read, never replaced).{still_demo}")


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
    """Run the stages in order and stop at the first that fails. `regenerate` generates
    new raw files even if some exist; the generator refuses a folder it did not create and
    replaces only its own files there. SIGTERM / SIGINT during a stage end the stage and
    raise Interrupted."""
    layout = Layout.for_dataset(dataset, data_dir)
    env = layout.env()
    py = sys.executable
    report = PipelineReport(dataset=dataset, warehouse=str(layout.warehouse))
    layout.data_dir.mkdir(parents=True, exist_ok=True)

    def stage(name: str, command: list[str]) -> bool:
        return run_stage(name, command, env, report, memory_sampler).returncode == 0

    if dataset == "lpoint":
        plan = RawFolderPlan("generate", f"--regenerate: new demo data in {layout.raw_dir}.") if regenerate \
            else raw_folder_plan(layout.raw_dir)
        print(plan.message, flush=True)
        if plan.action == "generate" and not stage(
            "generate",
            [py, "-m", "loyalty_analytics.generator", "--customers", str(customers), "--seed", str(seed),
             "--out-raw", str(layout.raw_dir), "--out-truth", str(layout.truth_dir)],
        ):
            return report

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
    if _report_lock(layout.warehouse, False, report):
        return report
    if not stage("dbt build", build):
        _print_lock_holder(layout.warehouse, read_only=False)
        return report
    if dataset == "lpoint":
        print_quarantine_counts(layout.warehouse)

    if publish:
        if _report_lock(layout.warehouse, True, report):
            return report
        if not stage(
            "validate + publish",
            [py, "-m", "loyalty_analytics.publish", "--warehouse", str(layout.warehouse),
             "--out", str(layout.published_dir)],
        ):
            _print_lock_holder(layout.warehouse, read_only=True)
    return report


def _print_lock_holder(warehouse: Path, read_only: bool) -> None:
    """After a failed stage: if another process took the lock meanwhile, say so in one line
    (the stage's own error is a long traceback)."""
    message = warehouse_in_use(warehouse, read_only)
    if message:
        print(message, file=sys.stderr, flush=True)


def print_quarantine_counts(warehouse: Path) -> None:
    """The build continues without quarantined rows; say how many and why."""
    import duckdb

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        _print_lock_holder(warehouse, read_only=True)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="lpoint", choices=DATASETS)
    parser.add_argument("--customers", type=int, default=3000, help="demo size when data is generated")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--regenerate", action="store_true",
                        help="generate new raw files even if some exist; only into a folder the generator "
                             "created, and only over its own unchanged files")
    parser.add_argument("--no-publish", action="store_true")
    parser.add_argument("--report-json", type=Path, default=None, help="write stage timings here")
    args = parser.parse_args(argv)
    try:
        report = run(args.dataset, args.customers, args.seed, args.data_dir, args.regenerate,
                     publish=not args.no_publish)
    except Interrupted as stop:
        print(f"\nStopped by {stop}: the running stage and its processes were ended. "
              "Run the same command again to start over.", file=sys.stderr, flush=True)
        return 128 + stop.signum
    print_summary(report, Layout.for_dataset(args.dataset, args.data_dir))
    if args.report_json:
        args.report_json.write_text(json.dumps(asdict(report), indent=2))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
