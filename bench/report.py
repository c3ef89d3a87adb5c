"""Collect the benchmark's figures (dbt run_results, mart row counts, model metrics,
machine facts) and render the Markdown report and the scaling plot."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
from pathlib import Path

import psutil

from loyalty_analytics.contract import LPOINT

TOP_MODELS = 15
VERSIONED = [
    "duckdb",
    "dbt-core",
    "dbt-duckdb",
    "pandas",
    "numpy",
    "pyarrow",
    "scikit-learn",
    "lifetimes",
    "torch",
    "great_expectations",
]
COUNTED_FILES = {
    figure: LPOINT.table(table).file
    for figure, table in (("pdde_lines", "pdde"), ("cop_u_rows", "cop_u"), ("lpay_rows", "lpay"), ("customers", "demo"))
}


# ---------------------------------------------------------------- collect


def machine_facts() -> dict:
    cpu_model = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in VERSIONED:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return {
        "cpu_model": cpu_model,
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
    }


def _count_lines(path: Path) -> int | None:
    if not path.exists():
        return None
    count = 0
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 24), b""):
            count += block.count(b"\n")
    return max(0, count - 1)  # header


def input_sizes(prepared_dir: Path) -> dict:
    return {key: _count_lines(Path(prepared_dir) / name) for key, name in COUNTED_FILES.items()}


def _kind(unique_id: str, node: dict) -> str:
    resource = unique_id.split(".", 1)[0]
    if resource == "model":
        return "python model" if node.get("language") == "python" else "sql model"
    return {"test": "test", "unit_test": "unit test", "seed": "seed", "snapshot": "snapshot"}.get(resource, resource)


def dbt_results(target_dir: Path) -> dict | None:
    """Per-node execution times from target/run_results.json (kinds from manifest.json)."""
    run_results = Path(target_dir) / "run_results.json"
    if not run_results.exists():
        return None
    data = json.loads(run_results.read_text())
    manifest_path = Path(target_dir) / "manifest.json"
    nodes: dict = {}
    if manifest_path.exists():
        manifest = json.loads(manifest_path.read_text())
        nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    results = []
    for r in data.get("results", []):
        uid = r["unique_id"]
        results.append(
            {
                "unique_id": uid,
                "name": nodes.get(uid, {}).get("name", uid.split(".")[-1]),
                "kind": _kind(uid, nodes.get(uid, {})),
                "status": r.get("status"),
                "seconds": round(r.get("execution_time") or 0.0, 3),
                "message": (r.get("message") or "").strip().splitlines()[0][:200] if r.get("message") else "",
            }
        )
    totals: dict = {}
    for r in results:
        t = totals.setdefault(r["kind"], {"count": 0, "seconds": 0.0, "not_ok": 0})
        t["count"] += 1
        t["seconds"] = round(t["seconds"] + r["seconds"], 3)
        if r["status"] not in ("success", "pass"):
            t["not_ok"] += 1
    return {
        "dbt_version": data.get("metadata", {}).get("dbt_version"),
        "elapsed_seconds": round(data.get("elapsed_time", 0.0), 2),
        "threads": len({r.get("thread_id") for r in data.get("results", []) if r.get("thread_id")}) or None,
        "totals": totals,
        "results": results,
    }


def _connect(warehouse: Path):
    import duckdb

    if not Path(warehouse).exists():
        return None
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.Error:
        return None


def mart_rows(warehouse: Path) -> dict | None:
    con = _connect(warehouse)
    if con is None:
        return None
    try:
        tables = [
            row[0]
            for row in con.sql(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
        return {t: con.sql(f'select count(*) from marts."{t}"').fetchall()[0][0] for t in tables}
    finally:
        con.close()


def model_metrics(warehouse: Path) -> list[dict] | None:
    con = _connect(warehouse)
    if con is None:
        return None
    try:
        rows = con.sql("select model_name, metric, k, split, value from marts.model_metrics order by all").fetchall()
    except Exception:  # noqa: BLE001 - not built in this selection
        return None
    finally:
        con.close()
    return [{"model_name": m, "metric": metric, "k": k, "split": s, "value": v} for m, metric, k, s, v in rows]


def sql_seconds_for(dbt: dict | None, groups: dict[str, list[str]]) -> dict | None:
    """Sum of dbt execution seconds of the models in each group (None when one is missing)."""
    if not dbt:
        return None
    by_name = {r["name"]: r for r in dbt["results"] if r["kind"] in ("sql model", "python model")}
    out: dict = {}
    for group, models in groups.items():
        missing = [m for m in models if m not in by_name]
        out[group] = None if missing else round(sum(by_name[m]["seconds"] for m in models), 3)
    out["total"] = None if None in out.values() else round(sum(out.values()), 3)
    return out


# ---------------------------------------------------------------- plot


def scaling_plot(runs: list[dict], path: Path) -> str | None:
    """Wall time (pipeline and per stage) and peak memory vs customers, with a linear
    reference through the smallest run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = sorted((r for r in runs if r["pipeline_ok"]), key=lambda r: r["customers"])
    if not points:
        return None
    n = [r["customers"] for r in points]
    fig, (ax_time, ax_mem) = plt.subplots(1, 2, figsize=(11, 4.2))
    total = [r["pipeline_seconds"] for r in points]
    ax_time.plot(n, total, "o-", lw=2, label="whole pipeline")
    for stage in ("generate", "ingest", "dbt build", "validate + publish"):
        ys = [_stage(r, stage)["seconds"] if _stage(r, stage) else None for r in points]
        if all(y is not None for y in ys):
            ax_time.plot(n, ys, ".--", lw=1, label=stage)
    ax_time.plot(n, [total[0] * x / n[0] for x in n], ":", color="grey", label="linear reference")
    ax_time.set(xlabel="customers", ylabel="wall seconds", title="Time vs customers")
    peak = [max((s["peak_rss_mb"] or 0) for s in r["stages"]) for r in points]
    ax_mem.plot(n, peak, "o-", lw=2, color="C3", label="peak RSS (largest stage)")
    dbt_peak = [(_stage(r, "dbt build") or {}).get("peak_rss_mb") for r in points]
    if all(dbt_peak):
        ax_mem.plot(n, dbt_peak, ".--", color="C1", label="dbt build")
    ax_mem.plot(n, [peak[0] * x / n[0] for x in n], ":", color="grey", label="linear reference")
    ax_mem.set(xlabel="customers", ylabel="MB", title="Peak memory vs customers")
    for ax in (ax_time, ax_mem):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path.name


# ---------------------------------------------------------------- render


def _stage(run: dict, name: str) -> dict | None:
    return next((s for s in run["stages"] if s["name"] == name and s["seconds"] is not None), None)


def _fmt(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def _status(returncode) -> str:
    if returncode is None:
        return "not run (an earlier stage failed)"
    return "ok" if returncode == 0 else f"**FAILED** (exit {returncode})"


def render_run(run: dict, heading: str = "##", detail: bool = True) -> list[str]:
    out: list[str] = []
    inp = run.get("input") or {}
    out.append(
        f"{heading} {run['customers']:,} customers — "
        f"{'ok' if run['pipeline_ok'] else 'FAILED'} in {run['pipeline_seconds']:,.1f} s"
    )
    out.append("")
    out.append(
        f"Input: {_fmt(inp.get('customers'))} customers, {_fmt(inp.get('pdde_lines'))} PDDE lines, "
        f"{_fmt(inp.get('cop_u_rows'))} COP_U rows, {_fmt(inp.get('lpay_rows'))} L.Pay rows (seed {run['seed']}). "
        f"Options: {', '.join(k for k, v in run['options'].items() if v is True) or 'full pipeline'}"
        f"{'; dbt --select ' + repr(run['options']['dbt_select']) if run['options'].get('dbt_select') else ''}. "
        f"Load average (1/5/15 min) before {run['load_average_before']}, after {run['load_average_after']}."
    )
    out.append("")
    out.append(f"{heading}# Stages")
    out.append("")
    rows = [[s["name"], _fmt(s["seconds"]), _fmt(s["peak_rss_mb"], 0), _status(s["returncode"])] for s in run["stages"]]
    peer = run.get("peer") or {}
    reference = peer.get("reference") or {}
    for stage, label in (
        (peer.get("sql_stage"), "(SQL features alone, for the ratios)"),
        (reference.get("stage"), "(DuckDB reference, not part of the pipeline)"),
        (peer.get("stage"), "(pandas peer, not part of the pipeline)"),
    ):
        if stage:
            rows.append([label, _fmt(stage["seconds"]), _fmt(stage["peak_rss_mb"], 0), _status(stage["returncode"])])
    out += _table(["stage", "wall s", "peak RSS MB", "status"], rows)
    out.append("")
    out.append("Peak RSS: the largest summed resident memory of the stage's process tree, sampled every 0.2 s.")
    out.append("")

    dbt = run.get("dbt")
    if dbt:
        out.append(
            f"{heading}# dbt build (dbt {dbt['dbt_version']}, {dbt['threads'] or '?'} threads, "
            f"{dbt['elapsed_seconds']:,.1f} s elapsed)"
        )
        out.append("")
        order = ["seed", "sql model", "python model", "test", "unit test"]
        kinds = sorted(dbt["totals"], key=lambda k: order.index(k) if k in order else 99)
        out += _table(
            ["node kind", "count", "sum of execution s", "not ok"],
            [
                [k, dbt["totals"][k]["count"], _fmt(dbt["totals"][k]["seconds"]), dbt["totals"][k]["not_ok"]]
                for k in kinds
            ],
        )
        out.append("")
        out.append("Sums of per-node execution times: with several threads they exceed the elapsed time.")
        out.append("")
        if detail:
            models = sorted(
                (r for r in dbt["results"] if r["kind"] in ("sql model", "python model", "seed")),
                key=lambda r: -r["seconds"],
            )[:TOP_MODELS]
            out.append(f"Top {len(models)} models by execution time:")
            out.append("")
            out += _table(
                ["model", "kind", "s", "status"],
                [[r["name"], r["kind"], _fmt(r["seconds"], 2), r["status"]] for r in models],
            )
            out.append("")
            tests = sorted(
                (r for r in dbt["results"] if r["kind"] in ("test", "unit test")), key=lambda r: -r["seconds"]
            )[:5]
            if tests:
                out.append("Slowest tests: " + ", ".join(f"`{r['name']}` {r['seconds']:.2f} s" for r in tests) + ".")
                out.append("")
        failed = [r for r in dbt["results"] if r["status"] not in ("success", "pass")]
        if failed:
            out.append(f"**Not ok in dbt ({len(failed)}):**")
            out.append("")
            out += _table(
                ["node", "kind", "status", "message"],
                [[r["name"], r["kind"], r["status"], r["message"].replace("|", "/")] for r in failed[:30]],
            )
            out.append("")
    else:
        out.append("No dbt run_results.json (dbt did not run).")
        out.append("")

    if peer.get("seconds") or reference.get("seconds"):
        out += render_comparison(peer, heading)
    elif peer:
        out.append(f"pandas peer: {_status(peer['stage']['returncode'])}.")
        out.append("")

    marts = run.get("marts")
    if detail:
        out.append(f"{heading}# Rows per mart (schema `marts`)")
        out.append("")
        if marts:
            out += _table(["mart", "rows"], [[f"`{k}`", _fmt(v)] for k, v in marts.items()])
        else:
            out.append("No warehouse / no marts built.")
        out.append("")
        out.append(f"{heading}# Model quality (`marts.model_metrics`)")
        out.append("")
        out += _metrics_table(run.get("model_metrics"))
        out.append("")
    return out


# The targets for the feature layer (same marts, same prepared files).
TARGET_DBT_OVER_REFERENCE = 2.0  # at most
TARGET_PANDAS_OVER_DBT = 2.0  # at least


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return numerator / denominator if numerator and denominator else None


def _checksum_verdict(result: dict) -> str:
    equal = result.get("checksums_equal")
    if not equal:
        return "checksums not compared"
    if all(equal.values()):
        return "row counts and column sums equal the marts (1e-9)"
    return f"**checksums differ from the marts: {equal}**"


def render_comparison(peer: dict, heading: str) -> list[str]:
    """The feature layer three ways: the dbt SQL models alone, the DuckDB reference and the
    pandas peer, per step, with the two ratios and their targets."""
    reference = peer.get("reference") or {}
    alone, in_build = peer.get("sql") or {}, peer.get("sql_in_build") or {}

    def seconds(result: dict, step: str) -> float | None:
        return result.get("total_seconds") if step == "total" else (result.get("seconds") or {}).get(step)

    rows = []
    for step in ("load", "rfm", "preference", "sessions", "total"):
        ref, dbt, pandas = seconds(reference, step), alone.get(step), seconds(peer, step)
        over_ref, over_dbt = _ratio(dbt, ref), _ratio(pandas, dbt)
        bold = (lambda x: f"**{x}**") if step == "total" else (lambda x: x)
        rows.append(
            [
                bold(step),
                _fmt(ref, 2),
                _fmt(dbt, 2),
                _fmt(pandas, 2),
                bold(f"{over_ref:.2f}×" if over_ref else "—"),
                bold(f"{over_dbt:.2f}×" if over_dbt else "—"),
                _fmt(in_build.get(step), 2),
            ]
        )
    total_over_ref = _ratio(alone.get("total"), reference.get("total_seconds"))
    total_over_dbt = _ratio(peer.get("total_seconds"), alone.get("total"))

    def verdict(value: float | None, ok: bool) -> str:
        return "not measured" if value is None else f"{value:.2f}× — {'met' if ok else '**not met**'}"

    out = [f"{heading}# dbt SQL vs DuckDB reference vs pandas peer (same marts, same prepared files)", ""]
    out += _table(
        [
            "step",
            "DuckDB reference s",
            "dbt SQL alone s",
            "pandas peer s",
            "dbt / reference",
            "pandas / dbt",
            "dbt in the full build s",
        ],
        rows,
    )
    out.append("")
    out.append(
        f"Targets: dbt / reference ≤ {TARGET_DBT_OVER_REFERENCE:g}: "
        f"{verdict(total_over_ref, total_over_ref is not None and total_over_ref <= TARGET_DBT_OVER_REFERENCE)}; "
        f"pandas / dbt ≥ {TARGET_PANDAS_OVER_DBT:g}: "
        f"{verdict(total_over_dbt, total_over_dbt is not None and total_over_dbt >= TARGET_PANDAS_OVER_DBT)}."
    )
    out.append("")
    out.append(
        f"DuckDB reference: {_checksum_verdict(reference)}; rows {reference.get('rows')}; one plain SQL script on "
        "one DuckDB connection (all cores), every column of the three marts; clean rows in memory, the three "
        f"results written to a DuckDB file. Pandas peer: {_checksum_verdict(peer)}; rows {peer.get('rows')}; "
        f"CSV engine `{peer.get('csv_engine')}`, single-threaded pandas, frames in memory, the columns the peer "
        "computes (no quintile scores, L.Pay split, product/category counts per session). dbt SQL alone = the "
        "sum of the models' execution times in `dbt run` of just these models, 1 dbt thread, DuckDB on all "
        "cores (dbt's start-up and parse are in the stage's wall time above, not here); in the full build the "
        "same models run two at a time beside other models and tests. dbt writes every table to the DuckDB "
        "file. Models per step: "
        + "; ".join(f"{k}: {', '.join(v)}" for k, v in peer.get("sql_models", {}).items())
        + ". int_sessions also builds the product and category lists of customer_session_sequences."
    )
    out.append("")
    return out


def _metrics_table(metrics: list[dict] | None, k_shown: int = 10) -> list[str]:
    """Compact: (1) top-K evaluations — one row per model × split that has metrics at
    k = k_shown, one column per metric; (2) everything else — one row per model × split with
    its metrics in one cell, and a model whose splits each hold the same single metric (e.g.
    a threshold series) on one row. All values are in the JSON."""
    if not metrics:
        return ["`marts.model_metrics` not built in this run."]
    at_k: dict[tuple, int] = {}
    for m in metrics:
        if m["k"] == k_shown:
            at_k[(m["model_name"], m["split"])] = at_k.get((m["model_name"], m["split"]), 0) + 1
    topk_keys = {key for key, n in at_k.items() if n >= 2}  # an evaluation, not a lone validation figure
    columns: list[str] = []
    cells: dict[tuple, dict] = {}
    rest: dict[str, dict[str, list[str]]] = {}
    for m in metrics:
        key = (m["model_name"], m["split"])
        if key in topk_keys:
            if m["k"] not in (None, k_shown):
                continue
            name = m["metric"] + (f"@{m['k']}" if m["k"] is not None else "")
            if name not in columns:
                columns.append(name)
            cells.setdefault(key, {})[name] = m["value"]
        else:
            name = m["metric"] + (f"@{m['k']}" if m["k"] is not None else "")
            rest.setdefault(m["model_name"], {}).setdefault(m["split"], []).append(f"{name} {_num(m['value'])}")
    out: list[str] = []
    if cells:
        columns.sort(key=lambda c: ("@" in c, c))
        out.append(f"Top-K evaluations (K = {k_shown}; other K in the JSON):")
        out.append("")
        out += _table(
            ["model", "split", *columns],
            [[model, split, *[_num(v.get(c)) for c in columns]] for (model, split), v in sorted(cells.items())],
        )
        out.append("")
    if rest:
        rows = []
        for model, splits in sorted(rest.items()):
            single = {tuple(x.split(" ")[0] for x in v) for v in splits.values()}
            if len(splits) >= 4 and len(single) == 1 and len(next(iter(single))) == 1:
                metric = next(iter(single))[0]
                rows.append(
                    [
                        model,
                        f"{metric} by split",
                        " · ".join(f"{split} {v[0].split(' ', 1)[1]}" for split, v in splits.items()),
                    ]
                )
            else:
                rows += [[model, split, " · ".join(v)] for split, v in splits.items()]
        out.append("Other metrics:")
        out.append("")
        out += _table(["model", "split", "metrics"], rows)
    return out


def _num(value) -> str:
    if value is None:
        return ""
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def render(document: dict) -> str:
    runs = document["runs"]
    m = document["machine"]
    out = [f"# Benchmark — {document['generated_at']}", "", f"`{document['command']}`", ""]
    if len(runs) > 1:
        out.append("## Scaling")
        out.append("")
        rows = []
        for r in sorted(runs, key=lambda r: r["customers"]):
            stages = {s["name"]: s for s in r["stages"]}
            rows.append(
                [
                    f"{r['customers']:,}",
                    _fmt((r.get("input") or {}).get("pdde_lines")),
                    *[
                        _fmt((stages.get(n) or {}).get("seconds"))
                        for n in ("generate", "ingest", "dbt build", "validate + publish")
                    ],
                    _fmt(r["pipeline_seconds"]),
                    _fmt(max((s["peak_rss_mb"] or 0.0) for s in r["stages"]), 0),
                    "ok" if r["pipeline_ok"] else "**FAILED**",
                ]
            )
        out += _table(
            [
                "customers",
                "PDDE lines",
                "generate s",
                "ingest s",
                "dbt build s",
                "validate + publish s",
                "total s",
                "peak RSS MB",
                "status",
            ],
            rows,
        )
        out.append("")
        if document.get("scaling_plot"):
            out.append(f"![time and peak memory vs customers]({document['scaling_plot']})")
            out.append("")
        largest = max(runs, key=lambda r: r["customers"])
        for r in sorted(runs, key=lambda r: r["customers"]):
            out += render_run(r, "##", detail=r is largest)
    else:
        out += render_run(runs[0])
    out.append("## Machine")
    out.append("")
    out.append(
        f"{m['cpu_model']}; {m['logical_cores']} logical cores ({m['usable_cores']} usable); "
        f"{m['ram_gb']} GB RAM; {m['os']}; Python {m['python']}."
    )
    out.append("")
    out.append(", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".")
    out.append("")
    out.append("Timings depend on the machine and on its load (see the load averages above).")
    out.append("")
    return "\n".join(out)
