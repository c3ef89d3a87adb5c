"""A stage dies with the pipeline: it runs in its own process group, SIGTERM / SIGINT to the
pipeline are forwarded to that group, and on Linux PR_SET_PDEATHSIG makes the kernel kill the
stage even when the pipeline is killed by SIGKILL."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

STOP_GRACE_SECONDS = 3.0  # after forwarding a signal, the stage gets this long before SIGKILL
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Interrupted(BaseException):
    """SIGTERM or SIGINT reached the pipeline; the running stage has been ended."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def die_with_parent_hook() -> Callable[[], None] | None:
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


def signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def end_stage(process: subprocess.Popen, signum: int = signal.SIGTERM) -> None:
    """Stop the stage's whole process group: `signum` first, SIGKILL after a grace period,
    and SIGKILL again for anything left in the group after its leader exited."""
    signal_group(process.pid, signum)
    try:
        process.wait(timeout=STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        pass
    signal_group(process.pid, signal.SIGKILL)
    process.wait()


class StopSignals:
    """While a stage runs in the main thread: SIGTERM / SIGINT raise Interrupted there (the
    default SIGTERM action would end the pipeline without ending its stage). Elsewhere, and
    where SIGINT is ignored (background jobs), the handlers are left alone."""

    def __enter__(self) -> StopSignals:
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
