"""Reliability of the pipeline around the user's files and processes (docs/bad_input.md,
"Your files and folders are never overwritten; kill and rerun"):

* the generator writes only into an empty/new folder or one it created itself (marker file),
  and never changes a file it did not write;
* paths with a quote, a space and Korean characters reach SQL safely, and so do dbt vars;
* killing the pipeline ends its stages, a rerun works, and a locked warehouse gives one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import psutil
import pytest
from generated_builds import QUICK_TRAINING

from loyalty_analytics import paths, pipeline
from loyalty_analytics.generator import generate
from loyalty_analytics.generator.marker import MARKER_NAME, OutputFolderError

CUSTOMERS = 300
SEED = 3
PD_CLAC = "LPOINT_BIG_COMP_04_PD_CLAC.csv"


def _hashes(folder: Path) -> dict[str, str]:
    """Every file in the folder (names included, so new files show up too)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_")}
    env.update(DBT_SEND_ANONYMOUS_USAGE_STATS="False", GX_ANALYTICS_ENABLED="False", **extra)
    return env


def _generator_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "loyalty_analytics.generator",
            "--customers",
            str(CUSTOMERS),
            "--seed",
            str(SEED),
            *args,
        ],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """One generated data set (raw + truth, with the generator's markers) to copy from."""
    root = tmp_path_factory.mktemp("generated")
    generate(CUSTOMERS, SEED, root / "raw", root / "truth")
    return root


@pytest.fixture(scope="module")
def real_files(tmp_path_factory) -> Path:
    """Stand-ins for a user's real files: another seed, so anything the generator writes over them shows."""
    root = tmp_path_factory.mktemp("real")
    generate(CUSTOMERS, SEED + 100, root / "raw", root / "truth")
    (root / "raw" / MARKER_NAME).unlink(missing_ok=True)
    return root / "raw"


@pytest.fixture
def user_folder(real_files, tmp_path) -> Path:
    """A user's folder of raw files (no marker: the generator did not write it)."""
    folder = tmp_path / "my raw files"
    shutil.copytree(real_files, folder)
    return folder


# ------------------------------------------------------------------ 1. data loss


def test_partial_raw_folder_stops_at_ingest_and_nothing_changes(user_folder, tmp_path):
    (user_folder / PD_CLAC).unlink()
    before = _hashes(user_folder)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "loyalty_analytics.pipeline",
            "--data-dir",
            str(tmp_path / "data"),
            "--customers",
            str(CUSTOMERS),
            "--no-publish",
        ],
        capture_output=True,
        text=True,
        env=_env(LOYALTY_RAW_DIR=str(user_folder)),
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "missing input file" in output and PD_CLAC in output, output
    assert "==> generate" not in output and "==> dbt build" not in output, output
    assert _hashes(user_folder) == before


def test_generator_cli_refuses_a_folder_it_did_not_create(user_folder, tmp_path):
    before = _hashes(user_folder)
    truth = tmp_path / "truth"
    result = _generator_cli("--out-raw", str(user_folder), "--out-truth", str(truth))
    assert result.returncode != 0
    assert "refusing to write" in result.stderr and str(user_folder) in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert _hashes(user_folder) == before
    assert not truth.exists()  # both folders are checked before anything is written


def test_generator_cli_refuses_a_truth_folder_it_did_not_create(tmp_path):
    raw, truth = tmp_path / "raw", tmp_path / "truth"
    truth.mkdir()
    (truth / "customers.parquet").write_bytes(b"the user's own file")
    result = _generator_cli("--out-raw", str(raw), "--out-truth", str(truth))
    assert result.returncode != 0 and str(truth) in result.stderr, result.stderr
    assert (truth / "customers.parquet").read_bytes() == b"the user's own file"
    assert not raw.exists() or not any(raw.iterdir())


def test_regenerate_replaces_only_the_files_the_generator_wrote(generated, tmp_path):
    raw, truth = tmp_path / "raw", tmp_path / "truth"
    shutil.copytree(generated / "raw", raw, copy_function=shutil.copy2)  # marker + unchanged files
    shutil.copytree(generated / "truth", truth, copy_function=shutil.copy2)
    (raw / "my_notes.csv").write_text("kept\n")
    old = _hashes(raw)
    result = _generator_cli("--out-raw", str(raw), "--out-truth", str(truth), "--seed", str(SEED + 1))
    assert result.returncode == 0, result.stderr
    new = _hashes(raw)
    assert new["my_notes.csv"] == old["my_notes.csv"]
    assert new["LPOINT_BIG_COMP_02_PDDE.csv"] != old["LPOINT_BIG_COMP_02_PDDE.csv"]  # other seed
    assert json.loads((raw / MARKER_NAME).read_text())["seed"] == SEED + 1


def test_a_generated_file_replaced_by_the_user_is_never_overwritten(generated, tmp_path):
    raw, truth = tmp_path / "raw", tmp_path / "truth"
    shutil.copytree(generated / "raw", raw, copy_function=shutil.copy2)
    (raw / PD_CLAC).write_text("pd_c,pd_nm,clac_hlv_nm,clac_mcls_nm\nPD0001,real product,a,b\n")
    before = _hashes(raw)
    with pytest.raises(OutputFolderError, match=PD_CLAC):
        generate(CUSTOMERS, SEED, raw, truth)
    assert _hashes(raw) == before
    assert not truth.exists()


def test_pipeline_regenerate_refuses_a_folder_without_marker(user_folder, tmp_path):
    before = _hashes(user_folder)
    os.environ["LOYALTY_RAW_DIR"] = str(user_folder)
    try:
        report = pipeline.run(
            "lpoint", customers=CUSTOMERS, seed=SEED, data_dir=tmp_path / "data", regenerate=True, publish=False
        )
    finally:
        del os.environ["LOYALTY_RAW_DIR"]
    assert [s.name for s in report.stages] == ["generate"] and not report.ok
    assert _hashes(user_folder) == before


def test_raw_folder_plan(generated, user_folder, tmp_path):
    assert pipeline.raw_folder_plan(tmp_path / "new").action == "generate"
    (tmp_path / "empty").mkdir()
    assert pipeline.raw_folder_plan(tmp_path / "empty").action == "generate"
    (tmp_path / "empty" / MARKER_NAME).write_text((generated / "raw" / MARKER_NAME).read_text())
    assert pipeline.raw_folder_plan(tmp_path / "empty").action == "generate"  # its files were deleted
    reuse = pipeline.raw_folder_plan(generated / "raw")  # a rerun of `make demo`
    assert reuse.action == "reuse" and f"{CUSTOMERS} customers, seed {SEED}" in reuse.message
    assert pipeline.raw_folder_plan(user_folder).action == "use"
    mixed = tmp_path / "mixed"  # a real file copied over one of the generated ones
    shutil.copytree(generated / "raw", mixed, copy_function=shutil.copy2)
    shutil.copy(user_folder / PD_CLAC, mixed / PD_CLAC)
    plan = pipeline.raw_folder_plan(mixed)
    assert plan.action == "use" and "LPOINT_BIG_COMP_01_DEMO.csv" in plan.message and PD_CLAC not in plan.message
    (user_folder / PD_CLAC).unlink()
    assert pipeline.raw_folder_plan(user_folder).action == "use"  # ingest names the missing file


def test_generation_killed_halfway_is_redone_on_rerun(generated, tmp_path):
    """The marker is written before the files: a half-written folder is still the generator's."""
    raw = tmp_path / "raw"
    shutil.copytree(generated / "raw", raw, copy_function=shutil.copy2)
    marker = json.loads((raw / MARKER_NAME).read_text())
    (raw / MARKER_NAME).write_text(json.dumps(dict(marker, complete=False)))
    (raw / PD_CLAC).unlink()
    assert pipeline.raw_folder_plan(raw).action == "generate"
    generate(CUSTOMERS, SEED, raw, tmp_path / "truth")
    assert (raw / PD_CLAC).exists() and json.loads((raw / MARKER_NAME).read_text())["complete"]


# ------------------------------------------------------------------ 2. paths and vars in SQL


@pytest.mark.slow
def test_pipeline_in_a_folder_named_with_quote_space_and_korean(tmp_path):
    data_dir = tmp_path / "o'brien 데이터"
    report = pipeline.run(
        "lpoint", customers=CUSTOMERS, seed=SEED, data_dir=data_dir, publish=True, dbt_extra_vars=QUICK_TRAINING
    )
    assert report.ok, report.stages
    layout = pipeline.Layout.for_dataset("lpoint", data_dir)
    con = duckdb.connect(str(layout.warehouse), read_only=True)
    try:
        assert con.execute("select count(*) from marts.customer_rfm").fetchall()[0][0] > 0
    finally:
        con.close()
    serving = next((layout.published_dir / "current").glob("*.duckdb"))
    con = duckdb.connect(str(serving), read_only=True)
    try:
        assert con.execute("select count(*) from marts.customer_rfm").fetchall()[0][0] > 0
    finally:
        con.close()


def _compile_run_parameters(tmp_path: Path, variables: dict) -> subprocess.CompletedProcess:
    target = tmp_path / "target"
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "compile",
            "--select",
            "int_run_parameters",
            "--project-dir",
            str(paths.PROJECT_ROOT),
            "--profiles-dir",
            str(paths.PROJECT_ROOT),
            "--target-path",
            str(target),
            "--log-path",
            str(tmp_path / "logs"),
            "--vars",
            json.dumps(variables),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=_env(LOYALTY_DUCKDB_PATH=str(tmp_path / "w.duckdb"), LOYALTY_PREPARED_DIR=str(tmp_path / "p'q")),
    )


@pytest.mark.slow
def test_dbt_vars_reach_sql_quoted_or_are_refused(tmp_path):
    ok = _compile_run_parameters(
        tmp_path, {"dataset": "lpoint", "observation_end": "2021-12-31", "clv_model": "o'brien"}
    )
    assert ok.returncode == 0, ok.stdout
    compiled = next((tmp_path / "target" / "compiled").rglob("int_run_parameters.sql")).read_text()
    con = duckdb.connect()
    try:
        (row,) = con.execute(compiled).fetchall()  # the compiled SQL parses and keeps the quote
    finally:
        con.close()
    assert row[0] == "lpoint" and "o'brien" in row
    bad_date = _compile_run_parameters(tmp_path, {"observation_end": "2021-31-12' or '1"})
    assert bad_date.returncode != 0 and "observation_end" in bad_date.stdout and "YYYY-MM-DD" in bad_date.stdout
    bad_dataset = _compile_run_parameters(tmp_path, {"dataset": "x'y"})
    assert bad_dataset.returncode != 0 and "Unknown dataset" in bad_dataset.stdout


# ------------------------------------------------------------------ 3. kill and rerun


def _start_pipeline(data_dir: Path) -> subprocess.Popen:
    # its own session, so the test can clean up whatever survives (and never hits pytest itself)
    return subprocess.Popen(
        [
            sys.executable,
            "-u",
            "-m",
            "loyalty_analytics.pipeline",
            "--data-dir",
            str(data_dir),
            "--customers",
            str(CUSTOMERS),
            "--seed",
            str(SEED),
            "--no-publish",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_env(),
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for_line(process: subprocess.Popen, needle: str, timeout: float = 240) -> list[str]:
    lines, deadline = [], time.monotonic() + timeout
    for line in process.stdout:
        lines.append(line)
        if needle in line:
            return lines
        assert time.monotonic() < deadline, "".join(lines)
    raise AssertionError("pipeline ended before " + repr(needle) + ":\n" + "".join(lines))


def _kill_leftovers(processes: list[psutil.Process]) -> list[psutil.Process]:
    alive = [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    for p in alive:
        p.kill()
    return alive


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=lambda s: s.name)
def test_killing_the_pipeline_ends_its_stages_and_a_rerun_works(tmp_path, signum):
    data_dir = tmp_path / "data"
    process = _start_pipeline(data_dir)
    try:
        lines = _wait_for_line(process, "==> dbt build")
        lines += _wait_for_line(process, " START ")  # dbt has opened the warehouse and runs models
        tree = psutil.Process(process.pid).children(recursive=True)
        assert tree, "".join(lines)
        process.send_signal(signum)
        process.wait(timeout=15)
        gone, alive = psutil.wait_procs(tree, timeout=5)
        alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        assert not alive, f"still running after {signum.name}: {[p.cmdline() for p in alive]}"
    finally:
        process.kill()
        process.wait()
        _kill_leftovers(tree if "tree" in locals() else [])
    if signum != signal.SIGKILL:
        assert process.returncode == 128 + signum, process.returncode
    if signum == signal.SIGTERM:  # the rerun opens the killed build's warehouse and builds (SQL models only)
        report = pipeline.run(
            "lpoint", customers=CUSTOMERS, seed=SEED, data_dir=data_dir, publish=False, dbt_select="+customer_rfm"
        )
        assert report.ok, report.stages


def _hold_write_lock(path: Path) -> subprocess.Popen:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('locked', flush=True); time.sleep(300)",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


@pytest.mark.slow
def test_a_locked_warehouse_gives_one_line_with_the_holders_pid(generated, tmp_path):
    data_dir = tmp_path / "data"
    shutil.copytree(generated / "raw", data_dir / "raw", copy_function=shutil.copy2)
    holder = _hold_write_lock(data_dir / "warehouse.duckdb")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "loyalty_analytics.pipeline", "--data-dir", str(data_dir), "--no-publish"],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=600,
        )
    finally:
        holder.kill()
        holder.wait()
    output = result.stdout + result.stderr
    assert result.returncode != 0
    lock_lines = [line for line in output.splitlines() if "in use by another process" in line]
    assert len(lock_lines) == 1, output
    assert f"(PID {holder.pid}:" in lock_lines[0] and str(data_dir / "warehouse.duckdb") in lock_lines[0]
    assert "Traceback" not in output and "==> dbt build" not in output, output


def test_lock_check_for_readers_names_the_holder(tmp_path):
    warehouse = tmp_path / "w.duckdb"
    holder = _hold_write_lock(warehouse)
    try:
        message = pipeline.warehouse_in_use(warehouse, read_only=True)
    finally:
        holder.kill()
        holder.wait()
    assert message and f"PID {holder.pid}" in message and "\n" not in message
    assert pipeline.warehouse_in_use(warehouse, read_only=True) is None
    assert pipeline.warehouse_in_use(tmp_path / "missing.duckdb", read_only=False) is None
