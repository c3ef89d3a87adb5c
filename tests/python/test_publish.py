"""Write-audit-publish: a good build publishes, a bad one leaves `current` byte-identical,
old releases are pruned, the serving DuckDB file opens for older readers, and a reader in
another process sees only complete, consistent releases while publishes run."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

os.environ["GX_ANALYTICS_ENABLED"] = "False"

from conftest import execute_sql as _execute  # noqa: E402
from validation_fixtures import build_synthetic_marts  # noqa: E402

from loyalty_analytics import publish as pub  # noqa: E402


@pytest.fixture(scope="module")
def gx_root(tmp_path_factory):
    return tmp_path_factory.mktemp("gx") / "gx"


def _snapshot(out: Path) -> dict:
    """sha256 of every file reachable under out/current, plus where current points."""
    current = out / "current"
    files = {}
    for root, _, names in os.walk(current, followlinks=True):
        for n in names:
            p = Path(root) / n
            files[str(p.relative_to(current))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return {
        "target": os.readlink(current),
        "files": files,
        "releases": sorted(p.name for p in (out / "releases").iterdir()),
    }


def test_good_build_publishes_bad_build_leaves_current_untouched(tmp_path, gx_root, capsys):
    wh = build_synthetic_marts(tmp_path / "warehouse.duckdb", n_customers=40)
    out = tmp_path / "published"
    args = ["--warehouse", str(wh), "--out", str(out), "--gx-dir", str(gx_root)]

    assert pub.main(args) == 0
    printed = capsys.readouterr().out
    assert "RESULT: PASSED" in printed and "PUBLISHED release" in printed
    current = out / "current"
    assert current.is_symlink() and not os.path.isabs(os.readlink(current))
    manifest = json.loads((current / "_release.json").read_text())
    assert set(manifest["marts"]) >= {"customer_rfm", "customer_360", "product_recommendations"}
    assert manifest["validation"]["success"] is True
    for mart, t in manifest["marts"].items():
        n = duckdb.sql(f"select count(*) from read_parquet('{current / t['parquet']}')").fetchall()[0][0]
        assert n == t["rows"], mart
    before = _snapshot(out)

    # audit fails -> exit 1, nothing under out/current changes, no new release
    _execute(
        wh,
        "update marts.customer_clv set p_alive = 1.2 where customer_id = 'M000000003'",
        "delete from marts.segment_profiles where segment_id = 1",
    )
    assert pub.main(args) == 1
    printed = capsys.readouterr().out
    assert "RESULT: FAILED" in printed and "NOT PUBLISHED" in printed
    assert "customer_clv: expect_column_values_to_be_between [column p_alive] unexpected 1" in printed
    assert "customer_segments: expect_column_values_to_be_in_set [column chk_segment_in_profiles]" in printed
    assert _snapshot(out) == before
    assert not list((out / "releases").glob(".staging-*"))


def test_serving_duckdb_file(tmp_path, gx_root):
    wh = build_synthetic_marts(tmp_path / "warehouse.duckdb", n_customers=30)
    result = pub.publish(wh, tmp_path / "out", gx_root=gx_root, build_docs=False, log=lambda *_: None)
    assert result.published
    serving = tmp_path / "out" / "current" / pub.SERVING_DB
    assert serving.name != "marts.duckdb"
    con = duckdb.connect(str(serving), read_only=True)
    try:
        tags = con.execute("select tags from duckdb_databases() where database_name = current_database()").fetchall()[
            0
        ][0]
        assert tags["storage_version"].startswith("v1.4.0")
        assert con.execute("select count(*) from marts.customer_rfm").fetchall()[0][0] == 30
        assert con.execute("select release_id from meta.release").fetchall()[0][0] == result.release_dir.name
        # same snapshot as the Parquet files
        parquet = str(tmp_path / "out" / "current" / "customer_360.parquet")
        diff = con.execute(
            f"select count(*) from (from marts.customer_360 except all from read_parquet('{parquet}'))"
        ).fetchall()[0][0]
        assert diff == 0
    finally:
        con.close()


def test_keeps_last_three_releases(tmp_path, gx_root):
    wh = tmp_path / "warehouse.duckdb"
    out = tmp_path / "out"
    ids = []
    for i in range(5):
        build_synthetic_marts(wh, n_customers=20 + i, tag=i)
        r = pub.publish(wh, out, gx_root=gx_root, build_docs=False, log=lambda *_: None)
        ids.append(r.release_dir.name)
    assert sorted(p.name for p in (out / "releases").iterdir()) == ids[-3:]
    assert os.readlink(out / "current") == f"releases/{ids[-1]}"
    assert pub.read_once(out, deep=True)["rows"]["customer_rfm"] == 24


# A next_best_action mart over the synthetic customers: three actions, loyalty_programme with
# every customer suppressed (its audience file has the header only), reasons with commas and
# quotes (CSV quoting), no third product.
SYNTHETIC_NEXT_BEST_ACTION = """
    create table marts.next_best_action as
    with customers as (
        select customer_id, cast(substr(customer_id, 2) as integer) as i,
               ['win_back', 'basket_building', 'loyalty_programme'][i % 3 + 1] as action
        from marts.customer_rfm
    ),
    planned as (
        select *, action = 'loyalty_programme' or i % 4 = 0 as suppressed from customers
    )
    select customer_id, 'at risk' as segment_name, 'Gold' as tier, 'at risk' as playbook_key,
           'Re-activate' as objective, action, 'coupon' as offer_type, 'a coupon' as offer_example,
           'any' as product_focus, date '2022-01-01' + i % 5 as contact_start_date,
           date '2022-01-14' + i % 5 as contact_end_date, 'next_day' as contact_window_source,
           printf('PD%04d', 100 + i % 50) as product_code_1, '상품 ' || i as product_name_1,
           'new_to_customer' as recommendation_kind_1, 'A01' as affiliate_code_1, 0.5 as purchase_probability_1,
           'often bought with "milk, 1L"' as reason_1,
           printf('PD%04d', 150 + i % 50) as product_code_2, 'product ' || i as product_name_2,
           'replenishment' as recommendation_kind_2, 'A02' as affiliate_code_2, 0.25 as purchase_probability_2,
           'you buy it about every 7 days' as reason_2,
           null::varchar as product_code_3, null::varchar as product_name_3, null::varchar as recommendation_kind_3,
           null::varchar as affiliate_code_3, null::double as purchase_probability_3, null::varchar as reason_3,
           2 as n_products, date '2021-12-20' as last_purchase_date, 11 as days_since_last_purchase,
           0.9 as p_alive, 100.0 + i as clv_12m, suppressed,
           case when suppressed then 'just_bought' end as suppression_reason, 100.0 + i as priority_score,
           case when not suppressed then row_number() over (partition by suppressed order by i desc)::integer
           end as priority_rank,
           case when not suppressed then row_number() over (partition by suppressed, action order by i desc)::integer
           end as action_rank,
           date '2021-12-31' as plan_date, timestamp '2022-01-01 00:00:00' as generated_at
    from planned
"""


def test_release_has_one_audience_csv_per_action_matching_the_mart(tmp_path, gx_root):
    wh = build_synthetic_marts(tmp_path / "warehouse.duckdb", n_customers=30)
    _execute(wh, SYNTHETIC_NEXT_BEST_ACTION)
    out = tmp_path / "out"
    result = pub.publish(wh, out, gx_root=gx_root, build_docs=False, log=lambda *_: None)
    assert result.published
    current = out / "current"
    manifest = json.loads((current / "_release.json").read_text())
    con = duckdb.connect()
    try:
        mart = str(current / "next_best_action.parquet")
        actions = {a for (a,) in con.execute(f"select distinct action from read_parquet('{mart}')").fetchall()}
        assert set(manifest["audiences"]) == actions == {"win_back", "basket_building", "loyalty_programme"}
        assert sorted(p.name for p in (current / "audiences").iterdir()) == sorted(f"{a}.csv" for a in actions)
        for action, entry in manifest["audiences"].items():
            path = current / entry["file"]
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
            header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
            assert header == list(pub.AUDIENCE_COLUMNS)
            columns = ", ".join(f"cast({c} as varchar)" for c in pub.AUDIENCE_COLUMNS)
            expected = con.execute(
                f"select {columns} from read_parquet('{mart}') where action = ? and not suppressed "
                "order by action_rank",
                [action],
            ).fetchall()
            written = con.execute(
                f"select * from read_csv('{path}', header = true, all_varchar = true, "
                f"columns = {{{', '.join(repr(c) + ': ' + repr('VARCHAR') for c in pub.AUDIENCE_COLUMNS)}}})"
            ).fetchall()
            assert written == expected and entry["rows"] == len(expected), action
        assert manifest["audiences"]["loyalty_programme"]["rows"] == 0  # every customer suppressed
        assert manifest["audiences"]["win_back"]["rows"] > 0
    finally:
        con.close()
    pub.read_once(out, deep=True)


PUBLISHER = textwrap.dedent("""
    import os, sys
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import duckdb
    from loyalty_analytics import publish as pub
    sys.path.insert(0, sys.argv[5])  # tests/python: the fixture module
    from validation_fixtures import build_synthetic_marts
    wh, out, gx, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    KEEP = {"customer_rfm", "customer_clv", "customer_360", "product_recommendations",
            "customer_product_preference", "customer_segments", "segment_profiles"}
    for i in range(n):
        # changing data: row counts differ per release, so a mixed read would be caught
        build_synthetic_marts(wh, n_customers=40 + 13 * i, n_recs=2 + i % 3, tag=i)
        con = duckdb.connect(wh)  # fewer marts: a faster audit on a busy 2-core machine
        for (m,) in con.execute("select table_name from information_schema.tables "
                                "where table_schema = 'marts'").fetchall():
            if m not in KEEP:
                con.execute(f"drop table marts.{m}")
        con.close()
        r = pub.publish(wh, out, gx_root=gx, build_docs=False, log=lambda *_: None)
        assert r.published
        print(r.release_dir.name, flush=True)
""")


def test_concurrent_reader_sees_only_complete_releases(tmp_path, gx_root):
    wh = tmp_path / "warehouse.duckdb"
    out = tmp_path / "out"
    build_synthetic_marts(wh, n_customers=30)
    assert pub.publish(wh, out, gx_root=gx_root, build_docs=False, log=lambda *_: None).published
    stop = tmp_path / "stop"
    env = dict(os.environ, GX_ANALYTICS_ENABLED="False")
    reader = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loyalty_analytics.publish",
            "--reader-loop",
            "300",
            "--out",
            str(out),
            "--stop-file",
            str(stop),
            "--deep",
            "--pause",
            "0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        publisher = subprocess.run(
            [sys.executable, "-c", PUBLISHER, str(wh), str(out), str(gx_root), "5", str(Path(__file__).parent)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
        )
    finally:
        stop.touch()
        r_out, r_err = reader.communicate(timeout=120)
    assert publisher.returncode == 0, publisher.stderr
    published = publisher.stdout.split()
    assert len(published) == 5
    stats = json.loads(r_out.strip().splitlines()[-1])
    print(
        f"\nreader: {stats['reads']} reads, {stats['errors']} errors, "
        f"{len(stats['releases_seen'])} releases seen in {stats['seconds']}s"
    )
    assert reader.returncode == 0 and stats["errors"] == 0, stats["error_messages"] or r_err
    assert stats["reads"] >= 10
    assert len(stats["releases_seen"]) >= 2  # it really read while releases changed
    assert set(stats["releases_seen"][1:]) <= set(published)
