"""An offline index of the validation results: one HTML file without JavaScript, web fonts or
stylesheets from a CDN, written beside Great Expectations' Data Docs (whose own index.html loads
jQuery, Bootstrap and Vega from CDNs and shows an empty page offline).

It reads GX's validation results store (``uncommitted/validations/<suite>/<run>/<time>/<batch>.json``)
and lists, per suite, the newest result with its failed expectations, then every kept run. Each
row links to GX's page of that result and to the result's JSON, both local files.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

STATIC_INDEX = "static_index.html"
_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.n { text-align: right; }
.passed { color: #176117; font-weight: bold; }
.failed { color: #a40000; font-weight: bold; }
"""


@dataclass(frozen=True)
class StoredResult:
    suite: str
    run_name: str
    run_time: str
    json_path: Path
    success: bool
    evaluated: int
    passed: int
    failures: list[dict]  # expectation type, column, description, unexpected count, observed value

    @property
    def failed(self) -> int:
        return self.evaluated - self.passed


def _failure(result: dict) -> dict:
    config = result.get("expectation_config") or {}
    kwargs = config.get("kwargs") or {}
    column = kwargs.get("column") or ", ".join(kwargs.get("column_list") or [])
    outcome = result.get("result") or {}
    return {
        "expectation": config.get("type", ""),
        "column": column,
        "description": config.get("description") or "",
        "unexpected": outcome.get("unexpected_count"),
        "observed": outcome.get("observed_value"),
    }


def read_results(store: Path) -> list[StoredResult]:
    """Every validation result in GX's results store, newest run first within each suite."""
    found = []
    for path in sorted(store.glob("*/*/*/*.json")):
        run_time_dir, run_dir, suite_dir = path.parent, path.parent.parent, path.parent.parent.parent
        data = json.loads(path.read_text(encoding="utf-8"))
        statistics = data.get("statistics") or {}
        found.append(
            StoredResult(
                suite=data.get("suite_name") or suite_dir.name,
                run_name=run_dir.name,
                run_time=run_time_dir.name,
                json_path=path,
                success=bool(data.get("success")),
                evaluated=int(statistics.get("evaluated_expectations") or 0),
                passed=int(statistics.get("successful_expectations") or 0),
                failures=[_failure(r) for r in data.get("results") or [] if not r.get("success")],
            )
        )
    return sorted(found, key=lambda r: (r.suite, r.run_name, r.run_time), reverse=True)


def _link(target: Path, site: Path, text: str) -> str:
    """A relative link (the index works wherever the gx folder is copied), or the text alone."""
    if not target.exists():
        return html.escape(text)
    return f'<a href="{html.escape(os.path.relpath(target, site))}">{html.escape(text)}</a>'


def _status(success: bool) -> str:
    return '<span class="passed">passed</span>' if success else '<span class="failed">FAILED</span>'


def _result_links(result: StoredResult, store: Path, site: Path) -> str:
    page = site / "validations" / result.json_path.relative_to(store).with_suffix(".html")
    return _link(page, site, "GX page") + " · " + _link(result.json_path, site, "JSON")


def _latest_table(latest: list[StoredResult], store: Path, site: Path) -> list[str]:
    rows = [
        "<table>",
        "<tr><th>suite (mart)</th><th>status</th><th>evaluated</th><th>passed</th><th>failed</th>"
        "<th>run</th><th>result</th></tr>",
    ]
    for r in latest:
        rows.append(
            f"<tr><td>{html.escape(r.suite)}</td><td>{_status(r.success)}</td><td class='n'>{r.evaluated}</td>"
            f"<td class='n'>{r.passed}</td><td class='n'>{r.failed}</td><td>{html.escape(r.run_name)}</td>"
            f"<td>{_result_links(r, store, site)}</td></tr>"
        )
    return [*rows, "</table>"]


def _failures_table(latest: list[StoredResult]) -> list[str]:
    failing = [(r.suite, f) for r in latest for f in r.failures]
    if not failing:
        return ["<p>No failed expectation in the newest run of any suite.</p>"]
    rows = [
        "<table>",
        "<tr><th>suite</th><th>expectation</th><th>column</th><th>unexpected</th><th>observed</th>"
        "<th>description</th></tr>",
    ]
    for suite, f in failing:
        cells = (suite, f["expectation"], f["column"], f["unexpected"], f["observed"], f["description"])
        rows.append("<tr>" + "".join(f"<td>{html.escape('' if c is None else str(c))}</td>" for c in cells) + "</tr>")
    return [*rows, "</table>"]


def _history_table(results: list[StoredResult]) -> list[str]:
    by_run: dict[str, list[StoredResult]] = defaultdict(list)
    for r in results:
        by_run[r.run_name].append(r)
    rows = [
        "<table>",
        "<tr><th>run</th><th>suites</th><th>suites passed</th><th>failed expectations</th><th>status</th></tr>",
    ]
    for run in sorted(by_run, reverse=True):
        runs = by_run[run]
        ok = sum(r.success for r in runs)
        rows.append(
            f"<tr><td>{html.escape(run)}</td><td class='n'>{len(runs)}</td><td class='n'>{ok}</td>"
            f"<td class='n'>{sum(r.failed for r in runs)}</td><td>{_status(ok == len(runs))}</td></tr>"
        )
    return [*rows, "</table>"]


def render(results: list[StoredResult], store: Path, site: Path) -> str:
    """The index page: the newest result per suite, its failures, and the kept runs."""
    latest = list({r.suite: r for r in reversed(results)}.values())  # newest per suite
    latest.sort(key=lambda r: r.suite)
    generated = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    body = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Validation results (offline index)</title>',
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Validation results</h1>",
        f"<p>Great Expectations, {len(latest)} suites, runs kept: {len({r.run_name for r in results})}; "
        f"written {generated}. GX's own Data Docs: {_link(site / 'index.html', site, 'index.html')} "
        "(needs JavaScript from CDNs).</p>",
        "<h2>Newest result per suite</h2>",
        *_latest_table(latest, store, site),
        "<h2>Failed expectations (newest results)</h2>",
        *_failures_table(latest),
        "<h2>Runs</h2>",
        *_history_table(results),
        "</body></html>",
    ]
    return "\n".join(body) + "\n"


def write_static_index(gx_root: Path, site_name: str = "local_site") -> Path:
    """Write ``uncommitted/data_docs/<site>/static_index.html`` from the results store; returns its path."""
    store = gx_root / "uncommitted" / "validations"
    site = gx_root / "uncommitted" / "data_docs" / site_name
    site.mkdir(parents=True, exist_ok=True)
    path = site / STATIC_INDEX
    tmp = path.with_name(f".{STATIC_INDEX}.tmp-{os.getpid()}")
    tmp.write_text(render(read_results(store) if store.is_dir() else [], store, site), encoding="utf-8")
    os.replace(tmp, path)
    return path
