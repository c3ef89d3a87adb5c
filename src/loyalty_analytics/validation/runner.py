"""Run the marts' expectations (their dbt rules + suites.py, planned by :mod:`.frames`) with a
Great Expectations checkpoint (file context in ``gx/``), build Data Docs offline (and a static index of
the results that needs no JavaScript: :mod:`.static_index`), return a report.

Data path: DuckDB (read-only) -> Arrow -> pandas -> GX pandas datasource, one dataframe
asset, one suite and one validation definition per mart, all run by one checkpoint
``marts_checkpoint``; Data Docs are built once afterwards.
"""

from __future__ import annotations

import os

os.environ["GX_ANALYTICS_ENABLED"] = "False"  # before great_expectations is imported

import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import shutil
import time
import uuid
from pathlib import Path

import duckdb

from .. import paths
from .frames import MartPlan, build_plans, load_frame
from .report import Failure, MartResult, ValidationReport
from .rule_expectations import ExpectationSpec
from .static_index import STATIC_INDEX, write_static_index

CHECKPOINT_NAME = "marts_checkpoint"
DATASOURCE_NAME = "marts"
BATCH_DEFINITION_NAME = "whole_mart"
DOCS_SITE = "local_site"
KEEP_RUNS = 10  # validation results (and their Data Docs pages) kept per suite
# BASIC (counts, observed values) costs about half of SUMMARY, which also tallies the
# unexpected values and lists offending keys: SUMMARY only for marts that failed.
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 5}
FAILURE_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}


def gx_dir() -> Path:
    """The GX project folder (holds great_expectations.yml); env ``LOYALTY_GX_DIR``."""
    value = os.environ.get("LOYALTY_GX_DIR")
    return Path(value).resolve() if value else paths.PROJECT_ROOT / "gx"


def data_docs_index(gx_root: Path | None = None) -> Path:
    return (gx_root or gx_dir()) / "uncommitted" / "data_docs" / "local_site" / "index.html"


def new_run_id() -> str:
    now = dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]


def _ensure_project(root: Path) -> None:
    yml = root / "great_expectations.yml"
    if not yml.exists():
        template = paths.PROJECT_ROOT / "gx" / "great_expectations.yml"
        root.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(template, yml)
    (root / "uncommitted").mkdir(exist_ok=True)


def _working_context_root(root: Path) -> Path:
    """The folder GX runs in: ``<root>/uncommitted``, holding a copy of the project's
    great_expectations.yml with its ``uncommitted/`` store paths made relative to it (so the
    stores and Data Docs stay where they were). GX writes its pandas datasource and one asset
    per mart into the yml of the context it runs in (and reformats that file); running in the
    git-ignored copy keeps the committed project file unchanged by validation. The copy is
    rewritten only when the project file changes (a hash beside it says which version it is);
    the stored validation definitions and checkpoint name assets of the old copy's datasource,
    so those caches are dropped with it (every run rebuilds them anyway)."""
    work = root / "uncommitted"
    template = (root / "great_expectations.yml").read_text().replace("uncommitted/", "")
    digest = hashlib.sha256(template.encode()).hexdigest()
    stamp = work / ".great_expectations.yml.sha256"
    copy = work / "great_expectations.yml"
    if not copy.exists() or not stamp.exists() or stamp.read_text() != digest:
        for cache in ("validation_definitions", "checkpoints"):
            shutil.rmtree(work / cache, ignore_errors=True)
        tmp = work / f".great_expectations.yml.tmp-{os.getpid()}"
        tmp.write_text(template)
        os.replace(tmp, copy)
        stamp.write_text(digest)
    return work


@contextlib.contextmanager
def _project_lock(root: Path):
    """One validation at a time per GX project (its stores are plain files)."""
    with open(root / "uncommitted" / ".validation.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _prune_history(root: Path, keep: int = KEEP_RUNS) -> None:
    """Keep the newest `keep` runs per suite in the results store and the Data Docs site."""
    for base in (
        root / "uncommitted" / "validations",
        root / "uncommitted" / "data_docs" / "local_site" / "validations",
    ):
        if not base.is_dir():
            continue
        for suite_dir in base.iterdir():
            if not suite_dir.is_dir():
                continue
            runs = sorted((p for p in suite_dir.iterdir() if p.is_dir()), key=lambda p: p.name)
            for old in runs[:-keep] if keep else runs:
                shutil.rmtree(old, ignore_errors=True)


def _make_gx_classes():
    import great_expectations as gx
    from great_expectations.core.freshness_diagnostics import (
        CheckpointFreshnessDiagnostics,
        ValidationDefinitionFreshnessDiagnostics,
    )

    class MartFramesCheckpoint(gx.Checkpoint):
        """A Checkpoint whose validation definitions each get their own dataframe.

        GX 1.x passes one ``batch_parameters`` to every validation definition, but a
        dataframe asset needs ``{"dataframe": df}`` per mart. Here
        ``batch_parameters={"frames": {asset name: df}}`` and each definition gets its frame.

        Each mart is validated with the checkpoint's (cheap) result format first; a mart
        with failures is validated again with :data:`FAILURE_RESULT_FORMAT` naming its key
        columns, whose result replaces the first (same result key)."""

        def _run_validation_definitions(self, batch_parameters, expectation_parameters, result_format, run_id):
            frames = batch_parameters["frames"]
            index_columns = batch_parameters.get("index_columns", {})
            results = {}
            for vd in self.validation_definitions:
                asset = vd.data.data_asset.name
                run = functools.partial(
                    vd.run,
                    checkpoint_id=self.id,
                    batch_parameters={"dataframe": frames[asset]},
                    expectation_parameters=expectation_parameters,
                    run_id=run_id,
                )
                result = run(result_format=result_format)
                if not result.success:
                    detail = dict(FAILURE_RESULT_FORMAT)
                    if index_columns.get(asset):
                        detail["unexpected_index_column_names"] = list(index_columns[asset])
                    result = run(result_format=detail)
                key = self._build_result_key(validation_definition=vd, run_id=run_id, batch_identifier=result.batch_id)
                results[key] = result
            return results

        def is_fresh(self):
            return CheckpointFreshnessDiagnostics(errors=[]) if self.id else super().is_fresh()

    class StoredValidationDefinition(gx.ValidationDefinition):
        """Stored by the runner moments ago under the project lock: GX's freshness check
        (re-read and compare every stored suite, before each run: ~1 s for ~500
        expectations) guards against edits made since, which cannot happen here."""

        def is_fresh(self):
            return ValidationDefinitionFreshnessDiagnostics(errors=[]) if self.id else super().is_fresh()

    return MartFramesCheckpoint, StoredValidationDefinition


def _exception_message(er) -> str | None:
    info = er.exception_info or {}
    if "raised_exception" in info:
        return info.get("exception_message") if info.get("raised_exception") else None
    for v in info.values():  # keyed by metric id
        if isinstance(v, dict) and v.get("raised_exception"):
            return v.get("exception_message")
    return None


def _to_failure(mart: str, er, params: dict, key: tuple[str, ...]) -> Failure:
    cfg = er.expectation_config
    kwargs = cfg.kwargs
    column = kwargs.get("column") or (", ".join(kwargs["column_list"]) if kwargs.get("column_list") else None)
    res = er.result or {}
    expected = None
    if cfg.type == "expect_table_row_count_to_equal":
        v = kwargs.get("value")
        expected = params.get(v["$PARAMETER"]) if isinstance(v, dict) and "$PARAMETER" in v else v
    elif cfg.type == "expect_table_row_count_to_be_between":
        expected = f">= {kwargs.get('min_value')}"
    elif cfg.type == "expect_column_to_exist":
        expected = "column present"
    examples = []
    for item in res.get("partial_unexpected_index_list") or []:
        if isinstance(item, dict):
            examples.append(", ".join(f"{k}={item[k]}" for k in key if k in item) or str(item))
    if not examples:
        examples = list(res.get("partial_unexpected_list") or [])
    observed = res.get("observed_value")
    if cfg.type == "expect_column_to_exist":
        observed = "missing"
    return Failure(
        mart=mart,
        expectation=cfg.type,
        column=column,
        unexpected_count=res.get("unexpected_count"),
        description=cfg.description or "",
        observed=observed,
        expected=expected,
        examples=[str(e) for e in examples[:5]],
        error=_exception_message(er),
    )


def validate_connection(
    con: duckdb.DuckDBPyConnection,
    *,
    label: str = "warehouse",
    gx_root: Path | None = None,
    build_docs: bool = True,
    run_id: str | None = None,
    only=None,
) -> ValidationReport:
    """Validate every mart of an open DuckDB connection (read-only is enough); `only`
    restricts the run to the named marts."""
    t0 = time.perf_counter()
    run_id = run_id or new_run_id()
    plans, notices, params = build_plans(con, only=only)
    frames = {}
    rows = {}
    for plan in plans:
        frames[plan.mart] = load_frame(con, plan)
        rows[plan.mart] = con.execute(f'select count(*) from marts."{plan.mart}"').fetchall()[0][0]
    t_load = time.perf_counter()

    for plan in plans:
        notices.extend(plan.notices)
    if not plans:
        return ValidationReport(
            label,
            run_id,
            False,
            [],
            notices + ["no marts found in schema marts"],
            None,
            {"load": t_load - t0, "total": time.perf_counter() - t0},
        )

    root = Path(gx_root).resolve() if gx_root else gx_dir()
    _ensure_project(root)
    with _project_lock(root):
        checkpoint_result, gx_timings = _run_checkpoint(root, plans, frames, params, run_id, build_docs)

    by_mart = {}
    for vr in checkpoint_result.run_results.values():
        by_mart[vr.suite_name] = vr
    marts = []
    for plan in plans:
        vr = by_mart[plan.mart]
        failures = [_to_failure(plan.mart, er, params, plan.key) for er in vr.results if not er.success]
        n = len(vr.results)
        marts.append(MartResult(plan.mart, rows[plan.mart], n, n - len(failures), failures))
    success = all(not m.failures for m in marts)
    timings = {"load": t_load - t0, **gx_timings, "total": time.perf_counter() - t0}
    docs = str(data_docs_index(root)) if build_docs else None
    static_docs = str(data_docs_index(root).with_name(STATIC_INDEX)) if build_docs else None
    return ValidationReport(label, run_id, success, marts, notices, docs, timings, static_docs)


def _replace(factory, obj):
    """Store `obj` (suite, validation definition or checkpoint) under its name, replacing any
    previous one. Not ``add_or_update``: the suites' one matches every new expectation against
    the stored ones with ``list.index`` (quadratic, each comparison serialising two pydantic
    models), and the definitions' and checkpoint's ones redo it for every suite they hold:
    ~3 s per run for ~500 expectations."""
    from great_expectations.exceptions import DataContextError

    try:
        factory.delete(name=obj.name)
    except DataContextError:
        pass
    return factory.add(obj)


def _open_context(root: Path):
    import great_expectations as gx

    context = gx.get_context(mode="file", context_root_dir=str(_working_context_root(root)))
    try:
        ds = context.data_sources.get(DATASOURCE_NAME)
    except (KeyError, ValueError):
        ds = context.data_sources.add_pandas(DATASOURCE_NAME)
    return context, ds


def _expectation(gxe, spec: ExpectationSpec):
    from great_expectations.expectations.row_conditions import Column

    kwargs = dict(spec.kwargs)
    if spec.row_filter:
        kwargs["row_condition"] = Column(spec.row_filter) == True  # noqa: E712 (builds a GX condition)
    return getattr(gxe, spec.type)(
        **kwargs, description=spec.description, meta={"dbt_rule": spec.rule.label()} if spec.rule else None
    )


def _register_definitions(context, ds, plans: list[MartPlan]) -> list:
    """One suite and one validation definition per mart, rebuilt from the plans."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    _, definition_cls = _make_gx_classes()
    definitions = []
    for plan in plans:
        try:
            asset = ds.get_asset(plan.mart)
        except LookupError:
            asset = ds.add_dataframe_asset(plan.mart)
        try:
            batch_def = asset.get_batch_definition(BATCH_DEFINITION_NAME)
        except (KeyError, ValueError):
            batch_def = asset.add_batch_definition_whole_dataframe(BATCH_DEFINITION_NAME)
        expectations = [_expectation(gxe, e) for e in plan.expectations]
        suite = _replace(
            context.suites,
            gx.ExpectationSuite(
                name=plan.mart,
                expectations=expectations,
                meta={"mart": plan.mart, "key": list(plan.key), "declared_in": plan.declared_in},
            ),
        )
        definitions.append(
            _replace(
                context.validation_definitions,
                definition_cls(name=f"validate_{plan.mart}", data=batch_def, suite=suite),
            )
        )
    return definitions


def _run_checkpoint(root: Path, plans: list[MartPlan], frames: dict, params: dict, run_id: str, build_docs: bool):
    """The checkpoint result and the time of each step."""
    timings = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        timings[name] = now - t
        t = now

    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    context, ds = _open_context(root)
    lap("gx_context")
    definitions = _register_definitions(context, ds, plans)
    # No UpdateDataDocsAction: in GX 1.24 it rebuilds the whole site (index included) once
    # per validation result, i.e. 14 times; one build_data_docs call below does it once.
    checkpoint = _make_gx_classes()[0](
        name=CHECKPOINT_NAME,
        validation_definitions=definitions,
        actions=[],
        result_format=RESULT_FORMAT,
    )
    checkpoint.id = _replace(context.checkpoints, checkpoint).id  # keep our subclass instance
    _prune_history(root, KEEP_RUNS - 1)
    lap("gx_suites")
    result = checkpoint.run(
        batch_parameters={"frames": frames, "index_columns": {p.mart: p.key for p in plans}},
        expectation_parameters=params,
        run_id=RunIdentifier(run_name=run_id, run_time=dt.datetime.now(dt.UTC)),
    )
    lap("checkpoint")
    if build_docs:
        resources = list(result.run_results.keys()) + [ExpectationSuiteIdentifier(name=p.mart) for p in plans]
        context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=resources)
        write_static_index(root, DOCS_SITE)  # GX's index needs JavaScript from CDNs
        lap("data_docs")
    return result, timings


def validate_warehouse(warehouse: str | Path | None = None, **kwargs) -> ValidationReport:
    """Open the build DuckDB file read-only and validate its marts."""
    path = Path(warehouse) if warehouse else paths.warehouse_path()
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute("set enable_progress_bar = false")
        return validate_connection(con, label=str(path), **kwargs)
    finally:
        con.close()
