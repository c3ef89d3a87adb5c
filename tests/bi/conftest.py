"""Fixtures for `make test-bi`: a real Superset (its own virtualenv .venv-bi, started here) and a
small warehouse built and published by the pipeline into a temporary data folder.

Not part of `make test` (pytest's testpaths is tests/python): these tests need .venv-bi, which
`make test-bi` installs."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import superset_server
from superset_api import READ_ONLY_EXTRA, SupersetApi

os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BI_CUSTOMERS = int(os.environ.get("LOYALTY_BI_CUSTOMERS", "1000"))
FIRST_SEED, REBUILD_SEED = 21, 22
TIMINGS: dict[str, str] = {}  # printed at the end of the run (the numbers docs/bi.md quotes)


def record(name: str, value: str) -> None:
    TIMINGS[name] = value


def pytest_configure(config):
    # SIGTERM (e.g. `timeout`, CI cancelling) ends pytest like Ctrl-C, so fixtures stop the server.
    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


def pytest_terminal_summary(terminalreporter):
    if TIMINGS:
        terminalreporter.section("Superset BI test: measurements")
        for name, value in TIMINGS.items():
            terminalreporter.write_line(f"{name:<44} {value}")


def bi_python() -> Path:
    venv = Path(os.environ.get("LOYALTY_BI_VENV", PROJECT_ROOT / ".venv-bi"))
    python = venv / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} not found: run `make test-bi`, which installs Superset into {venv}", pytrace=False)
    return python


def _record_when_ready(server: superset_server.SupersetServer) -> None:
    with contextlib.suppress(Exception):  # a failed start is reported by the `superset` fixture
        seconds = superset_server.wait_ready(server)
        record("Superset start → /health answers", f"{seconds:.1f} s (setup + gunicorn, overlapping the build)")


@pytest.fixture(scope="session")
def superset_server_process(tmp_path_factory):
    """Bootstrap + server started in the background (they overlap the warehouse build)."""
    server = superset_server.start(bi_python(), tmp_path_factory.mktemp("superset-home"))
    threading.Thread(target=_record_when_ready, args=(server,), daemon=True).start()
    try:
        yield server
    finally:
        superset_server.stop(server)


@dataclass
class Published:
    data_dir: Path

    @property
    def out(self) -> Path:
        return self.data_dir / "published"

    @property
    def serving_db(self) -> Path:
        """What BI tools open: through the `current` symlink, so each query sees the latest release."""
        return self.out / "current" / "loyalty_marts.duckdb"


@pytest.fixture(scope="session")
def published(tmp_path_factory) -> Published:
    """A small generated warehouse, built, validated and published by the pipeline."""
    from loyalty_analytics import pipeline

    data_dir = tmp_path_factory.mktemp("bi-data")
    started = time.perf_counter()
    try:
        report = pipeline.run("lpoint", customers=BI_CUSTOMERS, seed=FIRST_SEED, data_dir=data_dir)
    except pipeline.Interrupted as exc:  # Ctrl-C / SIGTERM during a stage: stop the whole session
        raise KeyboardInterrupt(str(exc)) from exc
    assert report.ok, f"pipeline failed: {report.stages}"
    record("first build + publish", f"{time.perf_counter() - started:.1f} s ({BI_CUSTOMERS:,} customers)")
    result = Published(data_dir)
    assert result.serving_db.exists(), f"nothing published under {result.out}"
    return result


@dataclass
class Superset:
    api: SupersetApi
    server: superset_server.SupersetServer
    marts_db: int  # the published DuckDB file, registered read-only as docs/bi.md says
    parquet_db: int  # duckdb:///:memory: for read_parquet(...)


@pytest.fixture(scope="session")
def superset(superset_server_process, published) -> Superset:
    """Logged-in API client with the published release registered."""
    superset_server.wait_ready(superset_server_process)
    api = SupersetApi(superset_server_process.url, superset_server_process.username, superset_server_process.password)
    marts_db = api.register_database("loyalty marts", f"duckdb:///{published.serving_db}", READ_ONLY_EXTRA)
    parquet_db = api.register_database("loyalty parquet", "duckdb:///:memory:", {})
    return Superset(api, superset_server_process, marts_db, parquet_db)
