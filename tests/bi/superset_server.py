"""A throwaway Superset server for the BI tests: its own home folder (config with a fresh
SECRET_KEY, sqlite metadata DB, logs; never ~/.superset), an admin user with a random password,
gunicorn on 127.0.0.1 at a free port. Stdlib only: this runs in the project's virtualenv and
drives Superset's own virtualenv (.venv-bi) through superset_bootstrap.py.

The server dies with the test run: it runs in its own process group (so a Ctrl-C in the terminal
reaches pytest, whose teardown stops it), `stop()` ends the whole group, and on Linux the kernel
sends it SIGTERM if pytest itself dies, even by SIGKILL (superset_bootstrap.py asks for that)."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BOOTSTRAP = Path(__file__).with_name("superset_bootstrap.py")
ADMIN = "admin"  # superset_bootstrap.ADMIN


@dataclass
class SupersetServer:
    url: str
    home: Path
    log_path: Path
    username: str
    password: str
    process: subprocess.Popen
    started_at: float  # time.monotonic() when the bootstrap started

    def log_tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    """A port nobody listens on right now (the kernel's pick); gunicorn binds it moments later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(home: Path) -> Path:
    """superset_config.py with a SECRET_KEY of this run and the metadata DB inside `home`."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "superset_config.py"
    config.write_text(
        "# Written by tests/bi/superset_server.py for one test run.\n"
        f"SECRET_KEY = {secrets.token_hex(32)!r}\n"
        f"SQLALCHEMY_DATABASE_URI = {'sqlite:///' + str(home / 'superset.db')!r}\n"
        f"DATA_DIR = {str(home)!r}\n"
    )
    config.chmod(0o600)
    return config


def start(bi_python: Path, home: Path) -> SupersetServer:
    """Start bootstrap + server in the background and return at once (see `wait_ready`)."""
    config = write_config(home)
    password = secrets.token_urlsafe(16)
    port = free_port()
    env = dict(
        os.environ,
        SUPERSET_HOME=str(home),
        SUPERSET_CONFIG_PATH=str(config),
        HOME=str(home),
        SUPERSET_TEST_ADMIN_PASSWORD=password,
        PYTHONUNBUFFERED="1",
    )
    env.pop("PYTHONPATH", None)  # nothing of the project's virtualenv may leak into Superset's
    log_path = home / "superset.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(bi_python), str(BOOTSTRAP), "--port", str(port), "--parent-pid", str(os.getpid())],
            cwd=home,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return SupersetServer(f"http://127.0.0.1:{port}", home, log_path, ADMIN, password, process, time.monotonic())


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def wait_ready(server: SupersetServer, timeout: float = 600.0) -> float:
    """Block until /health answers; return seconds since `start`. Raises with the log's tail
    if the server exits or does not answer in time."""
    deadline = server.started_at + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"Superset exited with code {server.process.returncode}; log {server.log_path}:\n{server.log_tail()}"
            )
        if _healthy(server.url):
            return time.monotonic() - server.started_at
        time.sleep(0.5)
    raise TimeoutError(
        f"Superset did not answer {server.url}/health within {timeout:.0f} s; "
        f"log {server.log_path}:\n{server.log_tail()}"
    )


def stop(server: SupersetServer, grace: float = 10.0) -> None:
    """SIGTERM to the server's process group (gunicorn stops its workers), SIGKILL after `grace`
    seconds, then SIGKILL for anything left in the group."""
    pgid = server.process.pid  # leader of its own session / group
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    try:
        server.process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    server.process.wait()
