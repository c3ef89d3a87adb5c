"""What a new user types, run as they would (issue 15, item 4): plain dbt from the repository root,
`make publish` after a hand-run build, `make sql` on the release, `dbt docs generate --static`,
`dbt source freshness`, the pipeline's closing summary and Great Expectations' offline index.

All of it runs on a copy of the session's small L.Point build (conftest.lpoint_build): the copy is
the "hand-built" warehouse, so nothing here writes to the shared build or to data/."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from loyalty_analytics import contract, paths
from loyalty_analytics.pipeline.stages import PipelineReport, StageResult
from loyalty_analytics.pipeline.summary import print_summary

ROOT = paths.PROJECT_ROOT
DBT = str(Path(sys.executable).parent / "dbt")


def _user_env(**extra: str) -> dict[str, str]:
    """A shell without the Makefile's DBT_PROFILES_DIR, so dbt has to find the profile itself."""
    env = {k: v for k, v in os.environ.items() if k != "DBT_PROFILES_DIR" and not k.startswith("LOYALTY_")}
    env.update(DBT_SEND_ANONYMOUS_USAGE_STATS="False", GX_ANALYTICS_ENABLED="False", **extra)
    return env


def _run(command: list[str], env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=300, check=False
    )


def _count(database: Path, sql: str) -> int:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return con.execute(sql).fetchone()[0]
    finally:
        con.close()


@pytest.fixture(scope="module")
def hand_built(lpoint_build, tmp_path_factory):
    """A data folder holding only a build file, as after a hand-run `dbt build`; its own dbt
    target and GX project, and the dbt environment a user would have for it."""
    data = tmp_path_factory.mktemp("hand_built")
    shutil.copyfile(lpoint_build.warehouse, data / "warehouse.duckdb")
    env = _user_env(
        LOYALTY_DUCKDB_PATH=str(data / "warehouse.duckdb"),
        LOYALTY_PREPARED_DIR=str(lpoint_build.prepared_dir),
        DBT_TARGET_PATH=str(data / "target"),
        DBT_LOG_PATH=str(data / "logs"),
    )
    return data, env


@pytest.fixture(scope="module")
def republished(hand_built):
    """`make publish` on the hand-built folder: validation, publication, its printed summary."""
    data, env = hand_built
    run = _run(["make", "-s", "publish"], dict(env, LOYALTY_DATA_DIR=str(data), LOYALTY_GX_DIR=str(data / "gx")))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return data, run.stdout


def test_plain_dbt_ls_and_show_find_the_profile_from_the_repo_root(hand_built, lpoint_build):
    data, env = hand_built
    listed = _run([DBT, "ls", "--resource-type", "source", "--output", "name"], env)
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "lpoint.pdde" in listed.stdout
    shown = _run(
        [DBT, "show", "--inline", "select count(*) as n from {{ ref('customer_360') }}", "--output", "json"], env
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    expected = _count(lpoint_build.warehouse, "select count(*) from marts.customer_360")
    assert re.search(rf'"n":\s*{expected}\b', shown.stdout), shown.stdout[-2000:]
    # one declaration of the profile: the root file dbt finds, no second copy
    declared = [*ROOT.glob("profiles.yml"), *ROOT.glob("*/profiles.yml")]
    assert declared == [ROOT / "profiles.yml"]


def test_make_publish_republishes_the_hand_built_warehouse(republished, lpoint_build):
    data, printed = republished
    release = data / "published" / "current" / "loyalty_marts.duckdb"
    sql = "select count(*) from marts.customer_360"
    assert _count(release, sql) == _count(lpoint_build.warehouse, sql) > 0
    assert "==> validate + publish" in printed and "==> dbt build" not in printed
    dry = _run(["make", "-n", "publish", "DATASET=cdnow"], _user_env())
    assert "-m loyalty_analytics.pipeline.publish_only --dataset cdnow" in dry.stdout


def test_closing_summary_points_at_the_release_before_the_build_file(republished):
    data, printed = republished
    current = data / "published" / "current"
    summary = printed[printed.index("\nStages:") :]
    release_at = summary.index(f"DuckDB:  {current / 'loyalty_marts.duckdb'}")
    assert summary.index(f"Parquet: {current}/<mart>.parquet") > release_at
    assert summary.index(f"build file: {data / 'warehouse.duckdb'}") > release_at


def test_summary_has_memory_per_stage_and_dbt_results_per_resource_type(lpoint_build):
    report = PipelineReport("lpoint", str(lpoint_build.warehouse))
    report.stages += [StageResult("dbt build", 12.0, 640.0, 0), StageResult("validate + publish", 3.0, 410.0, 0)]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        print_summary(report, lpoint_build)
    text = printed.getvalue()
    assert re.search(r"stage\s+seconds\s+peak RSS MB", text)
    assert re.search(r"dbt build\s+12\.0\s+640\s+0", text)
    results = json.loads((lpoint_build.dbt_dir / "target" / "run_results.json").read_text())["results"]
    tests_passed = sum(r["unique_id"].startswith("test.") and r["status"] == "pass" for r in results)
    assert re.search(rf"\n  test\s+{tests_passed}\s+{tests_passed} pass\n", text), text


def test_make_sql_opens_the_published_file_read_only(republished):
    data, _ = republished
    published = data / "published"
    env = _user_env()
    query = _run(
        ["make", "-s", "sql", f"LOYALTY_PUBLISHED_DIR={published}"],
        env,
        stdin=".mode csv\nselect count(*) as n from marts.customer_rfm;\n",
    )
    assert query.returncode == 0, query.stdout + query.stderr
    rows = list(csv.reader(io.StringIO(query.stdout)))
    assert rows == [
        ["n"],
        [str(_count(published / "current" / "loyalty_marts.duckdb", "select count(*) from marts.customer_rfm"))],
    ]
    write = _run(
        ["make", "-s", "sql", f"LOYALTY_PUBLISHED_DIR={published}"], env, stdin="create table marts.x as select 1;\n"
    )
    assert write.returncode != 0 and "read-only" in write.stdout + write.stderr


def test_dbt_docs_generate_static_writes_one_offline_file(hand_built):
    data, env = hand_built
    run = _run([DBT, "docs", "generate", "--static"], env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    page = (data / "target" / "static_index.html").read_text(encoding="utf-8")
    assert "dbt/manifest/v12.json" in page and "dbt/catalog/v1.json" in page  # both inlined
    assert "model.loyalty_warehouse.customer_360" in page
    assert not re.search(r"""<(script|link)[^>]+(src|href)=["']https?://""", page), "loads from the network"
    dry = _run(["make", "-n", "docs"], _user_env())
    assert "dbt docs generate --static" in dry.stdout and "target/static_index.html" in dry.stdout


def test_dbt_source_freshness_warns_on_every_dated_source_table(hand_built, tmp_path):
    _, env = hand_built
    dated = {  # every table of every source with a date or timestamp column has a freshness rule
        (dataset.source, table.name)
        for dataset in contract.sources()
        for table in dataset.tables
        if any(column.kind in (contract.DATE, contract.ISO_DATE, contract.TIMESTAMP) for column in table.columns)
    }
    configured = set()
    for dataset in contract.sources():
        (source,) = yaml.safe_load((ROOT / dataset.sources_yml_path).read_text(encoding="utf-8"))["sources"]
        for table in source["tables"]:
            config = table.get("config") or {}
            if config.get("loaded_at_field") and config.get("freshness", {}).get("warn_after"):
                configured.add((source["name"], table["name"]))
    assert configured == dated
    # the built dataset's (L.Point's, 2021) sources, plain `dbt source freshness`: warn, not error
    out = tmp_path / "sources.json"
    run = _run([DBT, "source", "freshness", "--output", str(out)], env)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    results = {r["unique_id"].split(".", 2)[2]: r for r in json.loads(out.read_text())["results"]}
    assert set(results) == {f"lpoint.{name}" for source, name in dated if source == "lpoint"}
    assert {r["status"] for r in results.values()} == {"warn"}
    assert all(r["max_loaded_at"].startswith("2021-") for r in results.values())


def test_gx_static_index_lists_every_suite_offline(republished):
    data, printed = republished
    index = data / "gx" / "uncommitted" / "data_docs" / "local_site" / "static_index.html"
    assert f"Data Docs, offline (no JavaScript): {index}" in printed
    page = index.read_text(encoding="utf-8")
    assert "<script" not in page and "http" not in page
    release = json.loads((data / "published" / "current" / "_release.json").read_text())
    for mart in release["marts"]:
        assert f'<td>{mart}</td><td><span class="passed">passed</span>' in page
        assert f'href="validations/{mart}/' in page  # GX's page of that result, a local file
