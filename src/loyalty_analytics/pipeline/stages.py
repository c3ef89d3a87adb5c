"""Running one stage as a child process: its wall time, peak memory and exit code go into the
pipeline's report. The process-group and signal handling is in ``processes``."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loyalty_analytics import paths

from .processes import Interrupted, StopSignals, die_with_parent_hook, end_stage, signal_group

MemorySampler = Callable[[int], Callable[[], float | None]]


@dataclass
class StageResult:
    name: str
    seconds: float
    peak_rss_mb: float
    returncode: int


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


def _children_max_rss_kib() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def _wait(command: list[str], env: dict[str, str], memory_sampler: MemorySampler | None) -> tuple[int, float | None]:
    """Start the stage in its own process group and wait for it; on any exception (Interrupted
    included) end its group first. Returns (exit code, sampled peak MB or None)."""
    sampled_peak_mb = None
    # stdin from /dev/null: in its own process group a stage reading the terminal would be stopped
    with (
        StopSignals() as stop_signals,
        subprocess.Popen(
            command,
            env=env,
            cwd=paths.PROJECT_ROOT,
            stdin=subprocess.DEVNULL,
            process_group=0,
            preexec_fn=die_with_parent_hook(),
        ) as process,
    ):
        stop_sampler = memory_sampler(process.pid) if memory_sampler else None
        try:
            returncode = process.wait()
        except BaseException as error:
            stop_signals.ignore()
            end_stage(process, error.signum if isinstance(error, Interrupted) else signal.SIGTERM)
            raise
        finally:
            signal_group(process.pid, signal.SIGKILL)  # anything the stage left behind in its group
            if stop_sampler:
                sampled_peak_mb = stop_sampler()
    return returncode, sampled_peak_mb


def run_stage(
    name: str,
    command: list[str],
    env: dict[str, str],
    report: PipelineReport,
    memory_sampler: MemorySampler | None = None,
) -> StageResult:
    """Run one stage as a child process in its own process group, ended with the pipeline
    (see the package doc). `memory_sampler(pid)`, if given, starts sampling the
    child's process tree and returns a `stop()` that gives the stage's peak RSS in MB; without
    it the peak is the cumulative ru_maxrss of all children (an upper bound)."""
    print(f"\n==> {name}: {' '.join(command)}", flush=True)
    before = _children_max_rss_kib()
    start = time.perf_counter()
    returncode, sampled_peak_mb = _wait(command, env, memory_sampler)
    seconds = time.perf_counter() - start
    # ru_maxrss of children is the max over all children so far (KiB on Linux); a stage
    # smaller than an earlier one reports the earlier peak, so the figure is an upper bound.
    peak_mb = sampled_peak_mb if sampled_peak_mb is not None else max(_children_max_rss_kib(), before) / 1024
    result = StageResult(name, round(seconds, 2), round(peak_mb, 1), returncode)
    report.stages.append(result)
    status = "ok" if returncode == 0 else f"FAILED (exit {returncode})"
    print(f"<== {name}: {status} in {seconds:.1f} s", flush=True)
    return result
