"""Runs inside the Superset virtualenv (.venv-bi), never in the project's: set up a fresh Superset
home, then become its web server.

    SUPERSET_HOME=H SUPERSET_CONFIG_PATH=H/superset_config.py SUPERSET_TEST_ADMIN_PASSWORD=... \\
        .venv-bi/bin/python tests/bi/superset_bootstrap.py --port N --parent-pid PID

0. on Linux, ask the kernel for SIGTERM when the parent (pytest, PID) dies, even by SIGKILL;
   this survives the exec below, so gunicorn gets it;
1. `superset db upgrade`, `superset fab create-admin`, `superset init` — the three documented
   setup commands, run in this one process so Superset is imported once (about 25 s here
   instead of about 80 s for three `superset` processes);
2. exec gunicorn on 127.0.0.1:N, so the server keeps this process id and its process group.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import sys
import time
from pathlib import Path

ADMIN = "admin"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def log(message: str) -> None:
    print(f"[bootstrap {time.strftime('%H:%M:%S')}] {message}", flush=True)


def die_with_parent(parent_pid: int) -> None:
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM))
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        sys.exit("parent process is gone")


def set_up_metadata_db() -> None:
    from flask.cli import ScriptInfo
    from superset.app import create_app
    from superset.cli.main import superset

    app = create_app()
    info = ScriptInfo(create_app=lambda: app)  # one app for the three commands
    admin = [
        "--username",
        ADMIN,
        "--firstname",
        "Test",
        "--lastname",
        "Admin",
        "--email",
        "admin@localhost",
        "--password",
        os.environ["SUPERSET_TEST_ADMIN_PASSWORD"],
    ]
    for command in (["db", "upgrade"], ["fab", "create-admin", *admin], ["init"]):
        started = time.perf_counter()
        superset.main(command, obj=info, standalone_mode=False)
        log(f"superset {' '.join(command[:2])}: {time.perf_counter() - started:.1f} s")


def exec_server(port: int) -> None:
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    log(f"starting gunicorn on 127.0.0.1:{port}")
    os.execv(
        gunicorn,
        [
            gunicorn,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--timeout",
            "120",
            "--graceful-timeout",
            "5",
            "superset.app:create_app()",
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    args = parser.parse_args()
    die_with_parent(args.parent_pid)
    for name in ("SUPERSET_HOME", "SUPERSET_CONFIG_PATH", "SUPERSET_TEST_ADMIN_PASSWORD"):
        if not os.environ.get(name):
            sys.exit(f"{name} is not set (superset_server.py sets it)")
    started = time.perf_counter()
    set_up_metadata_db()
    log(f"metadata DB ready in {time.perf_counter() - started:.1f} s")
    exec_server(args.port)


if __name__ == "__main__":
    main()
