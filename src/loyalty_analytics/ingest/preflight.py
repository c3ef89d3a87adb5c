"""prepare(): check one dataset's raw files, write the prepared files and the report."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from loyalty_analytics.contract import DATASETS

from . import mapping as mappings
from .cdnow import prepare_cdnow
from .errors import InputError
from .lpoint import prepare_lpoint
from .output import atomic_target
from .retail import prepare_retail

REPORT_NAME = "_ingest_report.json"


def _write_report(report_path: Path, report: dict) -> None:
    tmp = atomic_target(report_path)
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, report_path)


def builtin_dbt_vars(dataset: str) -> dict:
    """The dbt vars of a built-in dataset: its name, its dbt source and what it records."""
    declared = DATASETS[dataset]
    return {"dataset": dataset, "source": declared.source, **declared.capabilities.dbt_vars()}


def prepare(
    dataset: str = "lpoint",
    raw_dir: str | Path | None = None,
    out_dir: str | Path | None = None,
    log=print,
    sample_customers: int | None = None,
) -> dict:
    """Check the raw files of ``dataset`` (lpoint, cdnow, cdnow_sample, or a mapping config: a
    name in datasets/ or a path to a .yml) and write the prepared files + report.

    Returns the report (also written to ``out_dir/_ingest_report.json``; its ``dbt_vars`` are the
    vars the dbt build of these files needs). Raises :class:`InputError` on unusable input."""
    from loyalty_analytics import paths

    mapping = None if dataset in DATASETS else mappings.load(mappings.config_path(dataset))
    if mapping is not None:  # the generic contract: the files are found through the config
        raw = Path(raw_dir).resolve() if raw_dir is not None else None
    else:
        raw = Path(raw_dir).resolve() if raw_dir is not None else paths.raw_dir()
    out = Path(out_dir).resolve() if out_dir is not None else paths.prepared_dir()
    if log is None:
        log = lambda *_: None  # noqa: E731
    if dataset == "lpoint" and raw == out:  # its prepared files may be links to the raw ones
        raise InputError(f"output directory {out} must differ from the raw directory")
    out.mkdir(parents=True, exist_ok=True)
    report_path = out / REPORT_NAME
    report_path.unlink(missing_ok=True)  # never leave a stale report after a failed run

    t0 = time.perf_counter()
    if sample_customers is not None and mapping is None:
        raise InputError(f"--sample-customers applies to a mapping config, not to {dataset!r}")
    extra = {"dbt_vars": builtin_dbt_vars(dataset)} if mapping is None else {}
    if mapping is not None:
        files, extra = prepare_retail(mapping, raw, out, log, sample_customers)
        raw = Path(extra["source_dir"])
    elif dataset == "lpoint":
        files = prepare_lpoint(raw, out, log)
    else:
        files = prepare_cdnow(dataset, raw, out, log)
    report = {
        "dataset": mapping.name if mapping else dataset,
        "raw_dir": str(raw),
        "out_dir": str(out),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 3),
        "files": files,
        **extra,
    }
    _write_report(report_path, report)
    return report
