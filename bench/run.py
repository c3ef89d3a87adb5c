"""Benchmark: generate N customers, run the whole pipeline (generate → ingest → dbt build with
every SQL and Python model and all dbt tests → GX validation + publication), then time the same
three feature marts three ways on the same prepared files — the dbt SQL models alone, the raw
DuckDB reference (bench/duckdb_reference.py) and the pandas peer (bench/pandas_peer.py) — and
write a report with the ratios dbt / reference (target ≤ 2) and pandas / dbt (target ≥ 2).

    python -m bench.run --customers 30000                    # make bench
    python -m bench.run --scaling 10000,30000,100000         # scaling table + plot
    python -m bench.run --customers 300 --sql-only --skip-gx --out /tmp/b   # CI smoke size

Reports: <out>/<timestamp>_<N>.md and .json (scaling: <timestamp>_scaling.md/.json/.png),
and <out>/latest.md. Generated data goes to <out>/tmp/data_<N> and is deleted after the
run unless --keep-data. Per-stage peak memory is the largest summed RSS of the stage's
process tree, sampled every 0.2 s (psutil).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import psutil

from bench import report as report_mod
from loyalty_analytics.contract import LPOINT

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = PROJECT_ROOT / "bench" / "results"
SAMPLE_SECONDS = 0.2

# The dbt models that compute what the DuckDB reference and the pandas peer compute: everything
# upstream of customer_rfm, customer_product_preference and customer_sessions (load + the three
# features), for the ratios.
PEER_SQL_MODELS = {
    "load": [
        "stg_lpoint__customers",
        "stg_lpoint__products",
        "stg_lpoint__purchase_lines",
        "stg_lpoint__service_uses",
        "stg_lpoint__lpay_payments",
        "int_purchase_lines_checked",
        "int_service_uses_checked",
        "int_lpay_payments_checked",
        "int_transactions",
        "int_run_parameters",
        "int_products",
        "int_purchase_lines",
    ],
    "rfm": ["int_receipts", "int_customer_daily_spend", "int_returns", "int_customer_summary", "customer_rfm"],
    "preference": ["int_customer_product_days", "customer_product_preference"],
    "sessions": ["int_sessions", "customer_sessions"],
}
# --sql-only: the SQL feature marts and everything upstream (no dbt Python model).
SQL_ONLY_SELECT = (
    "path:seeds +customer_rfm +customer_cohorts +customer_product_preference "
    "+preference_score_backtest +customer_sessions +customer_session_sequences +affiliate_preferences"
)


def tree_memory_sampler(interval: float = SAMPLE_SECONDS) -> Callable[[int], Callable[[], float | None]]:
    """For pipeline.run_stage: sample the summed RSS of a process and its descendants every
    `interval` seconds in a thread; stop() returns the peak in MB."""

    def start(pid: int) -> Callable[[], float | None]:
        peak = [0]
        done = threading.Event()
        try:
            root = psutil.Process(pid)
        except psutil.NoSuchProcess:
            return lambda: None

        def sample() -> None:
            while not done.is_set():
                try:
                    processes = [root, *root.children(recursive=True)]
                except psutil.NoSuchProcess:
                    break
                total = 0
                for process in processes:
                    try:
                        total += process.memory_info().rss
                    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                        pass
                peak[0] = max(peak[0], total)
                done.wait(interval)

        thread = threading.Thread(target=sample, name=f"rss-sampler-{pid}", daemon=True)
        thread.start()

        def stop() -> float | None:
            done.set()
            thread.join()
            return peak[0] / 2**20 if peak[0] else None

        return stop

    return start


def _env_override(values: dict[str, str]):
    """Set environment variables for the duration of a with-block (the pipeline's child
    processes inherit os.environ)."""

    class _Override:
        def __enter__(self):
            self.saved = {k: os.environ.get(k) for k in values}
            os.environ.update(values)

        def __exit__(self, *exc):
            for key, value in self.saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    return _Override()


def run_one(
    customers: int,
    seed: int,
    out: Path,
    *,
    sql_only: bool,
    skip_gx: bool,
    peer: bool,
    keep_data: bool,
    dbt_select: str | None = None,
) -> dict:
    """One pipeline run at `customers` plus the peer; returns the run record (JSON-able)."""
    from loyalty_analytics import pipeline

    tmp = out / "tmp"
    data_dir = tmp / f"data_{customers}"
    target_dir = tmp / f"target_{customers}"
    for stale in (data_dir, target_dir):
        shutil.rmtree(stale, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    select = dbt_select or (SQL_ONLY_SELECT if sql_only else None)
    sampler = tree_memory_sampler()
    load_before = psutil.getloadavg()
    started = datetime.now().astimezone()
    wall = time.perf_counter()
    # dbt's target/ (run_results.json, manifest.json) and logs go next to the bench data, so the
    # figures are this run's even when someone else runs dbt in the project meanwhile.
    with _env_override({"DBT_TARGET_PATH": str(target_dir), "DBT_LOG_PATH": str(tmp / f"logs_{customers}")}):
        result = pipeline.run(
            "lpoint",
            customers=customers,
            seed=seed,
            data_dir=data_dir,
            regenerate=True,
            publish=not skip_gx,
            dbt_select=select,
            memory_sampler=sampler,
        )
    pipeline_seconds = time.perf_counter() - wall
    layout = pipeline.Layout.for_dataset("lpoint", data_dir)
    stages = [asdict(s) for s in result.stages]
    expected = ["generate", "ingest", "dbt build"] + ([] if skip_gx else ["validate + publish"])
    ran = {s["name"] for s in stages}
    for name in expected:
        if name not in ran:
            stages.append({"name": name, "seconds": None, "peak_rss_mb": None, "returncode": None})

    record: dict = {
        "customers": customers,
        "seed": seed,
        "started_at": started.isoformat(timespec="seconds"),
        "options": {"sql_only": sql_only, "skip_gx": skip_gx, "dbt_select": select, "peer": peer},
        "pipeline_ok": result.ok,
        "pipeline_seconds": round(pipeline_seconds, 2),
        "stages": stages,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in psutil.getloadavg()],
        "input": report_mod.input_sizes(layout.prepared_dir),
        "dbt": report_mod.dbt_results(target_dir),
        "marts": report_mod.mart_rows(layout.warehouse),
        "model_metrics": report_mod.model_metrics(layout.warehouse),
        "peer": None,
    }

    if peer and (layout.prepared_dir / LPOINT.table("pdde").file).exists():
        record["peer"] = run_peer(pipeline, layout, tmp, customers, record["dbt"], sampler)

    if not keep_data:
        shutil.rmtree(data_dir, ignore_errors=True)
        record["data_dir"] = f"{data_dir} (deleted; --keep-data keeps it)"
    else:
        record["data_dir"] = str(data_dir)
    return record


def run_peer(pipeline, layout, tmp: Path, customers: int, dbt: dict | None, sampler) -> dict:
    """Time the three feature marts three ways, one after the other on the quiet warehouse: the
    dbt SQL models alone (in the full build they share the 2 dbt threads with the Python models,
    which inflates their times: `dbt run` of just those models with one dbt thread, DuckDB on all
    cores), the DuckDB reference and the pandas peer; each checked against the marts."""
    side = pipeline.PipelineReport(dataset="lpoint", warehouse=str(layout.warehouse))
    out: dict = {"sql_models": PEER_SQL_MODELS, "sql_in_build": report_mod.sql_seconds_for(dbt, PEER_SQL_MODELS)}
    if out["sql_in_build"] is not None:  # the models exist: re-run them alone
        out.update(_sql_alone(pipeline, layout, tmp, customers, side, sampler))
    script = functools.partial(
        _timed_script, pipeline, layout=layout, tmp=tmp, customers=customers, side=side, sampler=sampler
    )
    out["reference"] = script("duckdb_reference", "DuckDB reference")
    out.update(script("pandas_peer", "pandas peer"))
    return out


def _sql_alone(pipeline, layout, tmp: Path, customers: int, side, sampler) -> dict:
    """`dbt run` of the feature models alone, 1 dbt thread: the stage and the seconds per step."""
    names = [m for models in PEER_SQL_MODELS.values() for m in models]
    target = tmp / f"target_{customers}_peer_sql"
    env = layout.env()
    env.update(DBT_TARGET_PATH=str(target), DBT_LOG_PATH=str(tmp / f"logs_{customers}"))
    project = ["--project-dir", str(PROJECT_ROOT), "--profiles-dir", str(PROJECT_ROOT), "--vars"]
    stage = pipeline.run_stage(
        "SQL features alone (dbt run, 1 thread)",
        [pipeline._bin("dbt"), "run", *project, pipeline.dbt_vars(layout), "--threads", "1", "--select", *names],
        env,
        side,
        sampler,
    )
    out: dict = {"sql_stage": asdict(stage)}
    if stage.returncode == 0:
        out["sql"] = report_mod.sql_seconds_for(report_mod.dbt_results(target), PEER_SQL_MODELS)
    shutil.rmtree(target, ignore_errors=True)
    return out


def _timed_script(pipeline, module: str, label: str, layout, tmp: Path, customers: int, side, sampler) -> dict:
    """Run `python -m bench.<module> <prepared> --json …` as a stage: its stage record, its
    seconds, rows and checksums, and whether the checksums equal the marts'."""
    result_json = tmp / f"{module}_{customers}.json"
    result_json.unlink(missing_ok=True)
    stage = pipeline.run_stage(
        label,
        [sys.executable, "-m", f"bench.{module}", str(layout.prepared_dir), "--json", str(result_json)],
        dict(os.environ),
        side,
        sampler,
    )
    out: dict = {"stage": asdict(stage)}
    if stage.returncode == 0 and result_json.exists():
        out.update(json.loads(result_json.read_text()))
        result_json.unlink()
        out["checksums_equal"] = _checksums_equal(layout.warehouse, out["checksums"])
    return out


def _checksums_equal(warehouse: Path, peer_sums: dict) -> dict | None:
    """Row counts and column sums of the peer's outputs vs the marts (rel. 1e-9)."""
    import duckdb

    from bench import pandas_peer

    try:
        con = duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None
    result = {}
    try:
        for name, columns in pandas_peer.CHECKSUM_COLUMNS.items():
            try:
                row = con.sql(pandas_peer.checksum_sql(name)).fetchall()[0]
            except duckdb.Error:
                result[name] = None
                continue
            sql = dict(zip(["rows", *columns], row))
            result[name] = all(
                abs(float(peer_sums[name][k]) - float(v)) <= 1e-9 * max(1.0, abs(float(v))) for k, v in sql.items()
            )
    finally:
        con.close()
    return result


def _comparison_ok(peer: dict | None) -> bool:
    """The reference and the peer ran (when asked to)."""
    if peer is None:
        return True
    return peer["stage"]["returncode"] == 0 and peer["reference"]["stage"]["returncode"] == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=30000, help="customers to generate (30000 ≈ real scale)")
    parser.add_argument(
        "--scaling", default=None, help="comma-separated sizes, e.g. 10000,30000,100000: one run per size + plot"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report folder (data under <out>/tmp)")
    parser.add_argument("--skip-gx", action="store_true", help="no Great Expectations validation + publication")
    parser.add_argument(
        "--sql-only", action="store_true", help="dbt builds the SQL feature marts only (no dbt Python models)"
    )
    parser.add_argument("--select", default=None, help="a dbt --select of your own (overrides --sql-only)")
    parser.add_argument(
        "--no-peer", action="store_true", help="do not time the SQL alone, the DuckDB reference and the pandas peer"
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the generated data and warehouse")
    args = parser.parse_args(argv)

    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    sizes = [int(s) for s in args.scaling.split(",") if s.strip()] if args.scaling else [args.customers]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    runs = []
    for customers in sizes:
        print(f"\n######## benchmark: {customers:,} customers ########", flush=True)
        runs.append(
            run_one(
                customers,
                args.seed,
                out,
                sql_only=args.sql_only,
                skip_gx=args.skip_gx,
                peer=not args.no_peer,
                keep_data=args.keep_data,
                dbt_select=args.select,
            )
        )

    document = {
        "generated_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:]),
        "machine": report_mod.machine_facts(),
        "runs": runs,
    }
    stem = f"{stamp}_scaling" if args.scaling else f"{stamp}_{sizes[0]}"
    if args.scaling:
        document["scaling_plot"] = report_mod.scaling_plot(runs, out / f"{stem}.png")
    markdown = report_mod.render(document)
    (out / f"{stem}.json").write_text(json.dumps(document, indent=2, default=str))
    (out / f"{stem}.md").write_text(markdown)
    (out / "latest.md").write_text(markdown)
    if not args.keep_data:
        for customers in sizes:  # dbt target/ and logs of the run (manifest etc.)
            shutil.rmtree(out / "tmp" / f"target_{customers}", ignore_errors=True)
            shutil.rmtree(out / "tmp" / f"logs_{customers}", ignore_errors=True)
    print(f"\nBenchmark report: {out / (stem + '.md')}  (also {out / 'latest.md'}, {out / (stem + '.json')})")
    ok = all(r["pipeline_ok"] and _comparison_ok(r["peer"]) for r in runs)
    if not ok:
        print("Some stage FAILED: see the report.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
