"""The warehouse lock: a DuckDB file another process holds stops the run before the stage that
needs it, with one line naming the file and the holder's PID."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from .stages import PipelineReport, StageResult

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
            return (
                f"error: {warehouse} is in use by another process "
                f"(PID {pid}: {_command_line(pid, holder['exe'])}); close it or wait"
            )
    return None


def report_lock(warehouse: Path, read_only: bool, report: PipelineReport) -> bool:
    """Before a stage: print the one line and record a failed check if the warehouse is locked."""
    message = warehouse_in_use(warehouse, read_only)
    if message:
        print(message, file=sys.stderr, flush=True)
        report.stages.append(StageResult("warehouse lock check", 0.0, 0.0, 1))
    return message is not None


def print_lock_holder(warehouse: Path, read_only: bool) -> None:
    """After a failed stage: if another process took the lock meanwhile, say so in one line
    (the stage's own error is a long traceback)."""
    message = warehouse_in_use(warehouse, read_only)
    if message:
        print(message, file=sys.stderr, flush=True)
