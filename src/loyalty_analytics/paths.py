"""Where things live. Every path is absolute and derived from the project root or an
environment variable, so commands work from any working directory."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).resolve() if value else default


def data_dir() -> Path:
    return _env_path("LOYALTY_DATA_DIR", PROJECT_ROOT / "data")


def raw_dir() -> Path:
    """The six LPOINT_BIG_COMP files (generated or real)."""
    return _env_path("LOYALTY_RAW_DIR", data_dir() / "raw")


def truth_dir() -> Path:
    """Planted ground truth of generated data; models never read it."""
    return _env_path("LOYALTY_TRUTH_DIR", data_dir() / "truth")


def prepared_dir() -> Path:
    """Checked, UTF-8 inputs that the dbt sources read."""
    return _env_path("LOYALTY_PREPARED_DIR", data_dir() / "prepared")


def warehouse_path() -> Path:
    return _env_path("LOYALTY_DUCKDB_PATH", data_dir() / "warehouse.duckdb")


def models_dir() -> Path:
    """Stored model artifacts: ``<models_dir>/<model_name>/<version>/`` (see model_store)."""
    return _env_path("LOYALTY_MODELS_DIR", data_dir() / "models")
