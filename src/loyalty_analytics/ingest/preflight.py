"""prepare(): check one dataset's raw files, write the prepared files and the report."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from loyalty_analytics.contract import DATASETS

from .cdnow import prepare_cdnow
from .errors import InputError
from .lpoint import prepare_lpoint
from .output import atomic_target

REPORT_NAME = "_ingest_report.json"


def _write_report(report_path: Path, report: dict) -> None:
    tmp = atomic_target(report_path)
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, report_path)


def prepare(
    dataset: str = "lpoint", raw_dir: str | Path | None = None, out_dir: str | Path | None = None, log=print
) -> dict:
    """Check the raw files of ``dataset`` and write the prepared copies/links + report.

    Returns the report (also written to ``out_dir/_ingest_report.json``). Raises
    :class:`InputError` on unusable input."""
    from loyalty_analytics import paths

    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}")
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
    if dataset == "lpoint":
        files = prepare_lpoint(raw, out, log)
    else:
        files = prepare_cdnow(dataset, raw, out, log)
    report = {
        "dataset": dataset,
        "raw_dir": str(raw),
        "out_dir": str(out),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 3),
        "files": files,
    }
    _write_report(report_path, report)
    return report
