"""Apache Superset 6.1 reading the published marts through its own REST API (`make test-bi`).

The settings and the analyst queries come from docs/bi.md itself, so the documentation is what
gets tested. Order matters: the last test republishes the data folder."""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
from conftest import BI_CUSTOMERS, PROJECT_ROOT, REBUILD_SEED, record
from superset_api import READ_ONLY_EXTRA, TOP_LEVEL_CONNECT_ARGS_EXTRA, SqlLabError

DOC = PROJECT_ROOT / "docs" / "bi.md"
DOC_DATA_PLACEHOLDER = "/ABS/PATH/data/published"  # docs/bi.md's stand-in for the published folder
REBUILD_TIMEOUT_S = 1200


@dataclass
class AnalystQuery:
    name: str
    sql: str

    @property
    def reads_parquet(self) -> bool:
        return "read_parquet(" in self.sql


def analyst_queries() -> list[AnalystQuery]:
    """The ```sql blocks of docs/bi.md's "Analyst queries" section; each starts with `-- name`."""
    text = DOC.read_text()
    section = re.search(r"^## Analyst queries\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert section, f"{DOC} has no '## Analyst queries' section"
    queries = []
    for block in re.findall(r"```sql\n(.*?)```", section.group(1), re.DOTALL):
        first, _, rest = block.partition("\n")
        assert first.startswith("-- "), f"an analyst query in {DOC} does not start with '-- name': {block[:80]}"
        queries.append(AnalystQuery(first[3:].strip(), rest.strip()))
    return queries


def for_this_run(query: AnalystQuery, published) -> str:
    return query.sql.replace(DOC_DATA_PLACEHOLDER, str(published.out))


def normalise(value):
    """DuckDB's Python values as Superset's JSON carries them."""
    if isinstance(value, dt.date):  # also datetime
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def duckdb_rows(sql: str, database: Path | None) -> list[dict]:
    con = duckdb.connect(str(database), read_only=True) if database else duckdb.connect()
    try:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, map(normalise, row))) for row in cursor.fetchall()]
    finally:
        con.close()


# --------------------------------------------------------------------------------------------


def test_docs_give_the_setting_this_test_registers():
    """docs/bi.md and the README state the read-only setting exactly as the tests use it."""
    setting = json.dumps(READ_ONLY_EXTRA)
    assert setting in DOC.read_text(), f"{DOC} must give the database extra {setting}"
    assert setting in (PROJECT_ROOT / "README.md").read_text(), f"README.md must give the database extra {setting}"
    assert len(analyst_queries()) >= 5


def test_analyst_queries_in_sql_lab_equal_duckdb(superset, published):
    """Every analyst query of docs/bi.md, run in SQL Lab, returns exactly what DuckDB returns on
    the published file (same columns, same rows in the same order, same values)."""
    started = time.perf_counter()
    for query in analyst_queries():
        sql = for_this_run(query, published)
        database = superset.parquet_db if query.reads_parquet else superset.marts_db
        got = superset.api.execute(database, sql)
        expected = duckdb_rows(sql, None if query.reads_parquet else published.serving_db)
        assert expected, f"{query.name}: no rows, the check would prove nothing"
        assert got == expected, f"{query.name}: SQL Lab and DuckDB differ"
    record(
        "analyst queries (SQL Lab + DuckDB, compared)",
        f"{time.perf_counter() - started:.1f} s for {len(analyst_queries())} queries",
    )


def test_sqllab_replaces_a_smaller_limit_as_docs_bi_says(superset):
    """Superset 6.1 replaces a query's own LIMIT by the row limit + 1 (apache/superset#40070);
    docs/bi.md tells analysts to wrap the query instead. If this fails, Superset changed: update
    docs/bi.md."""
    executed, n = superset.api.executed_sql(
        superset.marts_db, "select customer_id from marts.customer_360 limit 5", query_limit=1000
    )
    assert n > 5 and "LIMIT 1001" in executed, executed
    wrapped = superset.api.execute(
        superset.marts_db, "select * from (select customer_id from marts.customer_360 order by customer_id limit 5)"
    )
    assert len(wrapped) == 5


def test_connect_args_at_the_top_of_extra_is_ignored(superset, published, tmp_path):
    """The old README setting (connect_args at the top of extra) is accepted but not applied: the
    connection opens read-write, so it fails while any other process has the file open, where the
    documented engine_params setting reads. Probed on a copy, never on the published file."""
    probe = tmp_path / "probe.duckdb"
    shutil.copyfile(published.serving_db, probe)
    right = superset.api.register_database("probe engine_params", f"duckdb:///{probe}", READ_ONLY_EXTRA)
    wrong = superset.api.register_database(
        "probe top-level connect_args", f"duckdb:///{probe}", TOP_LEVEL_CONNECT_ARGS_EXTRA
    )
    assert superset.api.database_extra(wrong) == TOP_LEVEL_CONNECT_ARGS_EXTRA  # stored as given

    mode = "select current_setting('access_mode') as access_mode"
    assert superset.api.execute(right, mode) == [{"access_mode": "read_only"}]
    assert superset.api.execute(wrong, mode) == [{"access_mode": "automatic"}]  # i.e. read-write

    count = "select count(*) as n from meta.tables"
    other_reader = duckdb.connect(str(probe), read_only=True)  # e.g. an analyst's notebook
    try:
        assert superset.api.execute(right, count)[0]["n"] > 0
        with pytest.raises(SqlLabError, match="Could not set lock on file"):
            superset.api.execute(wrong, count)
    finally:
        other_reader.close()


# --------------------------------------------------------------------------------------------
# Queries during a full rebuild + republish


def consistency_sql(marts: list[str]) -> str:
    """One query: the release id, each mart's row count as meta.tables records it, and the mart's
    actual count. All from one file, so they must agree if the file is one complete release."""
    counted = "\n    union all ".join(
        f"select '{m}' as mart, count(*) as counted_rows from marts.\"{m}\"" for m in marts
    )
    return (
        f"with counted as (\n    {counted}\n)\n"
        "select r.release_id, coalesce(t.mart, c.mart) as mart, t.n_rows, c.counted_rows\n"
        "from meta.tables t full join counted c on c.mart = t.mart cross join meta.release r\n"
        "order by 2"
    )


def inconsistency(rows: list[dict], out: Path) -> str | None:
    """Why these rows are not one complete release (None if they are)."""
    releases = {r["release_id"] for r in rows}
    if len(releases) != 1:
        return f"{len(releases)} release ids in one answer: {sorted(releases)}"
    release = releases.pop()
    counts = {r["mart"]: r["counted_rows"] for r in rows}
    if any(r["n_rows"] != r["counted_rows"] for r in rows):
        return f"release {release}: meta.tables and counted rows differ: {rows}"
    manifest = json.loads((out / "releases" / release / "_release.json").read_text())
    if counts != {m: t["rows"] for m, t in manifest["marts"].items()}:
        return f"release {release}: counts {counts} differ from its _release.json"
    return None


def test_consistency_check_rejects_answers_that_are_not_one_release(tmp_path):
    """The rebuild loop's judge (no server needed): mixed releases, meta.tables disagreeing with
    the marts, or counts disagreeing with the release's manifest are all reported."""
    release = tmp_path / "releases" / "r1"
    release.mkdir(parents=True)
    (release / "_release.json").write_text(json.dumps({"marts": {"a": {"rows": 2}, "b": {"rows": 3}}}))
    whole = [
        {"release_id": "r1", "mart": "a", "n_rows": 2, "counted_rows": 2},
        {"release_id": "r1", "mart": "b", "n_rows": 3, "counted_rows": 3},
    ]
    assert inconsistency(whole, tmp_path) is None
    mixed = [whole[0], {**whole[1], "release_id": "r2"}]
    assert "2 release ids" in inconsistency(mixed, tmp_path)
    torn = [whole[0], {**whole[1], "counted_rows": 4}]
    assert "meta.tables and counted rows differ" in inconsistency(torn, tmp_path)
    other = [whole[0], {**whole[1], "n_rows": 4, "counted_rows": 4}]
    assert "differ from its _release.json" in inconsistency(other, tmp_path)
    missing_mart = [whole[0], {**whole[1], "n_rows": None}]  # a mart absent from meta.tables
    assert inconsistency(missing_mart, tmp_path) is not None


@dataclass
class LoopStats:
    queries: int = 0
    errors: list[str] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)  # in the order they were first seen

    def saw(self, release: str) -> None:
        if not self.releases or self.releases[-1] != release:
            self.releases.append(release)


def query_once(superset, sql: str, database: int, consistency: bool, out: Path, stats: LoopStats) -> None:
    stats.queries += 1
    try:
        rows = superset.api.execute(database, sql)
    except Exception as exc:  # noqa: BLE001 - every failure counts
        stats.errors.append(f"{type(exc).__name__}: {exc}")
        return
    if consistency:
        problem = inconsistency(rows, out)
        if problem:
            stats.errors.append(problem)
        else:
            stats.saw(rows[0]["release_id"])


def start_rebuild(published, log_path: Path) -> subprocess.Popen:
    """The whole pipeline again on the same data folder, with new data (another seed)."""
    command = [
        sys.executable,
        "-m",
        "loyalty_analytics.pipeline",
        "--data-dir",
        str(published.data_dir),
        "--customers",
        str(BI_CUSTOMERS),
        "--seed",
        str(REBUILD_SEED),
        "--regenerate",
    ]
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=dict(os.environ)
        )


def test_sql_lab_sees_whole_releases_during_a_rebuild(superset, published, tmp_path):
    """While the pipeline rebuilds and republishes the data folder, SQL Lab keeps querying the
    registered `current` file: no query fails, every answer is one complete release, and the
    new release shows up without re-registering anything."""
    out = published.out
    marts = [row["mart"] for row in duckdb_rows("select mart from meta.tables order by 1", published.serving_db)]
    first_release = os.path.basename(os.path.realpath(out / "current"))
    check = consistency_sql(marts)
    rotation = itertools.cycle(
        [(check, superset.marts_db, True)]
        + [
            (for_this_run(q, published), superset.parquet_db if q.reads_parquet else superset.marts_db, False)
            for q in analyst_queries()
        ]
        + [(check, superset.marts_db, True)]
    )  # the consistency check every few queries

    stats = LoopStats()
    log_path = tmp_path / "rebuild.log"
    started = time.perf_counter()
    rebuild = start_rebuild(published, log_path)
    try:
        while rebuild.poll() is None:
            assert time.perf_counter() - started < REBUILD_TIMEOUT_S, "rebuild took too long"
            query_once(superset, *next(rotation), out, stats)
    finally:
        if rebuild.poll() is None:
            rebuild.terminate()
            rebuild.wait(timeout=60)
    rebuild_s = time.perf_counter() - started
    during = stats.queries
    assert rebuild.returncode == 0, f"rebuild failed, log {log_path}:\n{log_path.read_text()[-3000:]}"
    for _ in range(3):  # after the swap
        query_once(superset, check, superset.marts_db, True, out, stats)

    new_release = os.path.basename(os.path.realpath(out / "current"))
    record(
        "rebuild + republish, SQL Lab querying",
        f"{rebuild_s:.1f} s, {during} queries ({during / rebuild_s:.1f}/s), {len(stats.errors)} errors",
    )
    record("releases seen by SQL Lab", " → ".join(stats.releases))
    assert stats.errors == [], f"{len(stats.errors)} of {stats.queries} queries failed: {stats.errors[:10]}"
    assert during >= 50, f"only {during} queries during the rebuild"
    assert new_release != first_release
    assert stats.releases == [first_release, new_release], stats.releases
