"""Write-audit-publish of the validated marts.

    python -m loyalty_analytics.publish [--warehouse PATH] [--out DIR] [--keep 3] [--no-docs]
    python -m loyalty_analytics.publish --reader-loop SECONDS [--out DIR] [--stop-file F]

1. Open the build DuckDB file **read-only** and keep it open: dbt cannot write while we
   hold it, so what is validated is exactly what is published.
2. Audit: run the Great Expectations checkpoint over every present mart
   (:mod:`loyalty_analytics.validation`), print the summary, build Data Docs.
   On any failure: exit 1 and touch nothing under ``OUT/``.
3. Write: ``OUT/releases/.staging-<id>/`` gets one Parquet file per mart, the campaign
   audiences (``audiences/<action>.csv``, one per action of ``next_best_action``), a serving
   DuckDB file ``loyalty_marts.duckdb`` (schema ``marts``, written with storage version v1.4.0
   so DuckDB >= 1.4 readers open it), ``_validation.json`` and, last, ``_release.json``
   (the manifest: row counts, columns, sha256 per file). Everything is fsynced.
4. Publish: rename the staging folder to ``OUT/releases/<id>/``, point a temporary symlink
   at it and ``os.replace`` it over ``OUT/current`` (an atomic rename), then delete all but
   the newest ``--keep`` releases (never the current one), so readers that resolved the old
   ``current`` a moment ago can finish.

Readers resolve ``OUT/current`` once per query (or once per session, with
``os.path.realpath``) and see one complete release. Published files are never modified.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ["GX_ANALYTICS_ENABLED"] = "False"  # before great_expectations is imported

import duckdb  # noqa: E402

from . import paths  # noqa: E402

SERVING_DB = "loyalty_marts.duckdb"  # never name it after a schema (marts.duckdb is ambiguous)
SERVING_STORAGE_VERSION = "v1.4.0"
MANIFEST = "_release.json"
VALIDATION = "_validation.json"
CURRENT = "current"
RELEASES = "releases"
KEEP_RELEASES = 3
AUDIENCES = "audiences"  # campaign audience CSV files, one per next_best_action action
AUDIENCE_MART = "next_best_action"
AUDIENCE_COLUMNS = (
    "customer_id",
    "action_rank",
    "contact_start_date",
    "contact_end_date",
    "offer_type",
    *(f"{c}_{s}" for s in (1, 2, 3) for c in ("product_code", "product_name", "reason")),
)


def published_dir() -> Path:
    """Default output folder; env ``LOYALTY_PUBLISH_DIR``."""
    value = os.environ.get("LOYALTY_PUBLISH_DIR")
    return Path(value).resolve() if value else paths.data_dir() / "published"


@dataclass
class PublishResult:
    published: bool
    release_dir: Path | None
    report: object  # loyalty_analytics.validation.ValidationReport
    timings: dict[str, float] = field(default_factory=dict)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@contextlib.contextmanager
def _publish_lock(out: Path):
    """Serialise publishers writing to the same folder."""
    out.mkdir(parents=True, exist_ok=True)
    with open(out / ".publish.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _audience_file_name(action: str) -> str:
    """The action code as a file name: anything but letters, digits, '-', '_' and '.' becomes '_'."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", action).lstrip(".") + ".csv"


def _write_audiences(con: duckdb.DuckDBPyConnection, folder: Path) -> dict:
    """One CSV file per action of next_best_action (what CRM tools import): the customers to
    contact (not suppressed) in action_rank order, with their contact window and products.
    An action whose customers are all suppressed gets a file with the header only."""
    folder.mkdir()
    query = f"select distinct action from marts.{AUDIENCE_MART} order by action"
    actions = [a for (a,) in con.execute(query).fetchall()]
    names = [_audience_file_name(a) for a in actions]
    if len(set(names)) < len(names):
        raise ValueError(f"two actions of {actions} give the same audience file name")
    files = {}
    for action, name in zip(actions, names, strict=True):
        target = folder / name
        audience = f"from marts.{AUDIENCE_MART} where action = {_sql_str(action)} and not suppressed"
        con.execute(
            f"copy (select {', '.join(AUDIENCE_COLUMNS)} {audience} order by action_rank, customer_id) "
            f"to {_sql_str(str(target))} (format csv, header true)"
        )
        rows = con.execute(f"select count(*) {audience}").fetchall()[0][0]
        files[action] = {"file": f"{AUDIENCES}/{name}", "rows": rows}
    return files


def _write_release(
    con: duckdb.DuckDBPyConnection, staging: Path, release_id: str, marts: list[str], report, warehouse: Path
) -> dict:
    staging.mkdir(parents=True)
    tables = {}
    for mart in marts:
        target = staging / f"{mart}.parquet"
        con.execute(
            f"copy (from marts.{_q(mart)}) to {_sql_str(str(target))} "
            f"(format parquet, compression zstd, kv_metadata {{release_id: {_sql_str(release_id)}}})"
        )
        cols = con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_catalog = current_database() and table_schema = 'marts' and table_name = ? "
            "order by ordinal_position",
            [mart],
        ).fetchall()
        rows = con.execute(f"select count(*) from marts.{_q(mart)}").fetchall()[0][0]
        tables[mart] = {"rows": rows, "parquet": target.name, "columns": [list(c) for c in cols]}
    audiences = _write_audiences(con, staging / AUDIENCES) if AUDIENCE_MART in marts else {}

    # Serving DuckDB file: same snapshot, copied table by table from the read-only warehouse.
    serving = staging / SERVING_DB
    con.execute(
        f"attach {_sql_str(str(serving))} as serving "
        f"(storage_version {_sql_str(SERVING_STORAGE_VERSION)}, read_only false)"
    )
    try:
        con.execute("create schema serving.marts")
        con.execute("create schema serving.meta")
        for mart in marts:
            con.execute(f"create table serving.marts.{_q(mart)} as from marts.{_q(mart)}")
        con.execute("create table serving.meta.tables (mart varchar primary key, n_rows bigint, parquet_file varchar)")
        con.executemany(
            "insert into serving.meta.tables values (?, ?, ?)",
            [[m, t["rows"], t["parquet"]] for m, t in tables.items()],
        )
        con.execute(
            "create table serving.meta.release as select ?::varchar as release_id, "
            "?::timestamp as published_at, ?::varchar as validation_run_id",
            [release_id, dt.datetime.now(dt.UTC).replace(tzinfo=None), report.run_id],
        )
    finally:
        con.execute("detach serving")

    (staging / VALIDATION).write_text(json.dumps(report.to_dict(), indent=2, default=str))
    for t in tables.values():
        p = staging / t["parquet"]
        t["bytes"] = p.stat().st_size
        t["sha256"] = _sha256(p)
    for a in audiences.values():
        p = staging / a["file"]
        a["bytes"] = p.stat().st_size
        a["sha256"] = _sha256(p)
    manifest = {
        "release_id": release_id,
        "created_at": dt.datetime.now(dt.UTC).isoformat(),
        "source_warehouse": str(warehouse),
        "duckdb_version": duckdb.__version__,
        "serving_db": {
            "file": SERVING_DB,
            "schema": "marts",
            "storage_compatibility_version": SERVING_STORAGE_VERSION,
            "bytes": serving.stat().st_size,
            "sha256": _sha256(serving),
        },
        "validation": {
            "run_id": report.run_id,
            "success": report.success,
            "n_expectations": report.n_expectations,
            "data_docs": report.data_docs,
        },
        "marts": tables,
        "audiences": audiences,  # action -> file (CSV, under audiences/), rows, bytes, sha256
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
    for a in audiences.values():
        _fsync_path(staging / a["file"])
    for p in staging.iterdir():
        _fsync_path(p)
    _fsync_path(staging)
    return manifest


def _swap_current(out: Path, release_id: str) -> None:
    current = out / CURRENT
    if current.exists() and not current.is_symlink():
        raise RuntimeError(f"{current} exists and is not a symlink; move it away first")
    tmp = out / f".{CURRENT}-{release_id}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(f"{RELEASES}/{release_id}", tmp)  # relative: the folder can be moved
    os.replace(tmp, current)  # rename(2): atomic for readers
    _fsync_path(out)


def _prune(out: Path, keep: int) -> list[str]:
    releases = out / RELEASES
    current = os.path.realpath(out / CURRENT)
    removed = []
    for p in releases.iterdir():
        if p.name.startswith(".staging-"):  # left by a crashed publisher (we hold the lock)
            shutil.rmtree(p, ignore_errors=True)
    done = sorted((p for p in releases.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)
    for p in done[:-keep] if keep > 0 else done:
        if os.path.realpath(p) != current:
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p.name)
    return removed


def publish(
    warehouse: str | Path | None = None,
    out: str | Path | None = None,
    *,
    gx_root: Path | None = None,
    keep: int = KEEP_RELEASES,
    build_docs: bool = True,
    log=print,
) -> PublishResult:
    """Validate the marts of `warehouse` and, if every expectation passes, publish them."""
    from .validation import format_summary, validate_connection
    from .validation.frames import present_marts, present_relations
    from .validation.runner import new_run_id

    t0 = time.perf_counter()
    warehouse = Path(warehouse) if warehouse else paths.warehouse_path()
    out = Path(out).resolve() if out else published_dir()
    if not warehouse.exists():
        raise FileNotFoundError(f"warehouse {warehouse} not found (run dbt build first)")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        con.execute("set enable_progress_bar = false")
        release_id = new_run_id()
        report = validate_connection(
            con, label=str(warehouse), gx_root=gx_root, build_docs=build_docs, run_id=release_id
        )
        t_val = time.perf_counter()
        log(format_summary(report))
        if not report.success:
            log(f"NOT PUBLISHED: validation failed; {out / CURRENT} is unchanged.")
            return PublishResult(False, None, report, {"validate": t_val - t0})
        marts = present_marts(present_relations(con))
        with _publish_lock(out):
            releases = out / RELEASES
            releases.mkdir(exist_ok=True)
            staging = releases / f".staging-{release_id}"
            manifest = _write_release(con, staging, release_id, marts, report, warehouse)
            final = releases / release_id
            os.rename(staging, final)
            _fsync_path(releases)
            t_write = time.perf_counter()
            _swap_current(out, release_id)
            removed = _prune(out, keep)
    finally:
        con.close()
    t_end = time.perf_counter()
    total_rows = sum(t["rows"] for t in manifest["marts"].values())
    log(f"PUBLISHED release {release_id}: {len(marts)} marts, {total_rows:,} rows")
    log(f"  {out / CURRENT} -> {final}")
    log(f"  Parquet: {out / CURRENT}/<mart>.parquet   DuckDB: {out / CURRENT / SERVING_DB} (schema marts)")
    if manifest["audiences"]:
        log(f"  campaign audiences: {out / CURRENT / AUDIENCES}/<action>.csv ({len(manifest['audiences'])} actions)")
    if removed:
        log(f"  pruned old releases: {', '.join(removed)}")
    timings = {"validate": t_val - t0, "write": t_write - t_val, "swap_and_prune": t_end - t_write, "total": t_end - t0}
    log("  timings: " + ", ".join(f"{k} {v:.2f}s" for k, v in timings.items()))
    return PublishResult(True, final, report, timings)


# ---------------------------------------------------------------------------------------
# Readers: what a BI tool does, as a reusable consistency probe.


def read_once(out: str | Path, *, deep: bool = False) -> dict:
    """Read the published marts the way BI clients do and check they form one complete
    release. Raises on any error or inconsistency; returns what was read.

    - resolve ``current`` once, read the manifest, count rows of every Parquet file of that
      release (and with `deep`, verify every file's sha256 against the manifest);
    - query ``current/*.parquet`` as a glob (what a naive client does) and, if ``current``
      did not move meanwhile, check the counts against the same manifest;
    - open ``current/loyalty_marts.duckdb`` read-only and check every mart's row count
      against the file's own ``meta.tables``.
    """
    out = Path(out)
    current = out / CURRENT
    release = Path(os.path.realpath(current))
    manifest = json.loads((release / MANIFEST).read_text())
    expected = {m: t["rows"] for m, t in manifest["marts"].items()}
    con = duckdb.connect()
    try:
        con.execute("set enable_progress_bar = false")
        for t in manifest["marts"].values():
            n = con.execute("select count(*) from read_parquet(?)", [str(release / t["parquet"])]).fetchall()[0][0]
            if n != t["rows"]:
                raise AssertionError(f"{release.name}/{t['parquet']}: {n} rows, manifest says {t['rows']}")
            if deep and _sha256(release / t["parquet"]) != t["sha256"]:
                raise AssertionError(f"{release.name}/{t['parquet']}: sha256 differs from manifest")
        for a in manifest.get("audiences", {}).values():
            if deep and _sha256(release / a["file"]) != a["sha256"]:
                raise AssertionError(f"{release.name}/{a['file']}: sha256 differs from manifest")
        glob_rows = dict(
            con.execute(
                "select parse_filename(filename, true), count(*) "
                "from read_parquet(?, filename = true, union_by_name = true) group by all",
                [str(current / "*.parquet")],
            ).fetchall()
        )
    finally:
        con.close()
    moved = os.path.realpath(current) != str(release)
    if not moved and glob_rows != expected:
        raise AssertionError(f"glob over {current}/*.parquet saw {glob_rows}, manifest {expected}")

    serving = duckdb.connect(str(current / SERVING_DB), read_only=True)
    try:
        meta = dict(serving.execute("select mart, n_rows from meta.tables").fetchall())
        rid = serving.execute("select release_id from meta.release").fetchall()[0][0]
        for mart, n_meta in meta.items():
            n = serving.execute(f"select count(*) from marts.{_q(mart)}").fetchall()[0][0]
            if n != n_meta:
                raise AssertionError(f"{SERVING_DB} ({rid}): marts.{mart} has {n} rows, meta.tables says {n_meta}")
    finally:
        serving.close()
    if not moved and (rid != manifest["release_id"] or meta != expected):
        raise AssertionError(f"{SERVING_DB} is release {rid}, manifest is {manifest['release_id']}")
    return {"release_id": manifest["release_id"], "rows": expected}


def reader_loop(
    out: str | Path,
    *,
    seconds: float = 30.0,
    max_reads: int | None = None,
    stop_file: str | Path | None = None,
    pause: float = 0.0,
    deep: bool = False,
    wait_for_first: float = 60.0,
) -> dict:
    """Call :func:`read_once` repeatedly until `seconds` pass, `max_reads` reads are done or
    `stop_file` exists. Never raises: returns ``{"reads", "errors", "error_messages",
    "releases_seen", "seconds"}``. Waits up to `wait_for_first` seconds for a first release."""
    out = Path(out)
    t0 = time.monotonic()
    while not (out / CURRENT).exists() and time.monotonic() - t0 < wait_for_first:
        if stop_file and Path(stop_file).exists():
            break
        time.sleep(0.05)
    reads = errors = 0
    messages: list[str] = []
    seen: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (max_reads is None or reads + errors < max_reads):
        if stop_file and Path(stop_file).exists():
            break
        try:
            got = read_once(out, deep=deep)
            reads += 1
            if not seen or seen[-1] != got["release_id"]:
                seen.append(got["release_id"])
        except Exception as exc:  # noqa: BLE001 - counting every failure is the point
            errors += 1
            if len(messages) < 20:
                messages.append(f"{type(exc).__name__}: {exc}")
        if pause:
            time.sleep(pause)
    return {
        "reads": reads,
        "errors": errors,
        "error_messages": messages,
        "releases_seen": seen,
        "seconds": round(time.monotonic() - t0, 2),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m loyalty_analytics.publish", description="Validate the marts and publish them atomically."
    )
    ap.add_argument(
        "--warehouse", type=Path, default=None, help=f"build DuckDB file (default {paths.warehouse_path()})"
    )
    ap.add_argument("--out", type=Path, default=None, help=f"publish folder (default {published_dir()})")
    ap.add_argument("--gx-dir", type=Path, default=None, help="GX project folder (default gx/ or $LOYALTY_GX_DIR)")
    ap.add_argument("--keep", type=int, default=KEEP_RELEASES, help="releases to keep (default 3)")
    ap.add_argument("--no-docs", action="store_true", help="skip building Data Docs")
    ap.add_argument(
        "--reader-loop",
        type=float,
        metavar="SECONDS",
        default=None,
        help="instead of publishing, read OUT/current repeatedly for SECONDS and "
        "report errors as JSON (exit 1 on any error)",
    )
    ap.add_argument("--stop-file", type=Path, default=None, help="with --reader-loop: stop when this file exists")
    ap.add_argument("--deep", action="store_true", help="with --reader-loop: also verify sha256 of every file")
    ap.add_argument("--pause", type=float, default=0.0, help="with --reader-loop: seconds to sleep between reads")
    args = ap.parse_args(argv)
    out = args.out.resolve() if args.out else published_dir()

    if args.reader_loop is not None:
        stats = reader_loop(out, seconds=args.reader_loop, stop_file=args.stop_file, deep=args.deep, pause=args.pause)
        print(json.dumps(stats))
        return 1 if stats["errors"] or not stats["reads"] else 0

    try:
        result = publish(
            args.warehouse,
            out,
            gx_root=args.gx_dir.resolve() if args.gx_dir else None,
            keep=args.keep,
            build_docs=not args.no_docs,
        )
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except duckdb.IOException as exc:
        print(f"error: cannot open the warehouse read-only (is dbt writing it?): {exc}", file=sys.stderr)
        return 2
    return 0 if result.published else 1


if __name__ == "__main__":
    sys.exit(main())
