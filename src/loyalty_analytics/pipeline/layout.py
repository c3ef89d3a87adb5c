"""Where one dataset's files go (raw, truth, prepared, warehouse, published, dbt state) and the
environment and dbt arguments that point every stage there."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from loyalty_analytics import paths
from loyalty_analytics.contract import DATASETS as _CONTRACT_DATASETS

DATASETS = tuple(_CONTRACT_DATASETS)


@dataclass
class Layout:
    """Where one dataset's files go. The CDNOW datasets get their own warehouse file
    (data/cdnow.duckdb) so they never overwrite the L.Point build."""

    dataset: str
    data_dir: Path
    raw_dir: Path
    truth_dir: Path
    prepared_dir: Path
    warehouse: Path
    published_dir: Path

    @property
    def dbt_dir(self) -> Path:
        """dbt's target/ and logs/: the project's own for the default data folder, else one
        beside the data, so concurrent builds (tests, benchmarks) never share dbt state."""
        if self.data_dir == (paths.PROJECT_ROOT / "data").resolve():
            return paths.PROJECT_ROOT
        return self.data_dir / "dbt"

    def dbt_args(self) -> list[str]:
        target = os.environ.get("DBT_TARGET_PATH") or str(self.dbt_dir / "target")
        logs = os.environ.get("DBT_LOG_PATH") or str(self.dbt_dir / "logs")
        return [
            "--project-dir",
            str(paths.PROJECT_ROOT),
            "--profiles-dir",
            str(paths.PROJECT_ROOT / "profiles"),
            "--target-path",
            target,
            "--log-path",
            logs,
        ]

    @classmethod
    def for_dataset(cls, dataset: str, data_dir: Path | None = None) -> Layout:
        if dataset not in DATASETS:
            raise SystemExit(f"unknown dataset {dataset!r}: use one of {', '.join(DATASETS)}")
        data = Path(data_dir).resolve() if data_dir else paths.data_dir()
        if dataset == "lpoint":
            return cls(
                dataset,
                data,
                Path(os.environ.get("LOYALTY_RAW_DIR", data / "raw")).resolve(),
                Path(os.environ.get("LOYALTY_TRUTH_DIR", data / "truth")).resolve(),
                data / "prepared",
                Path(os.environ.get("LOYALTY_DUCKDB_PATH", data / "warehouse.duckdb")).resolve(),
                data / "published",
            )
        stem = "cdnow" if dataset == "cdnow" else "cdnow_sample"
        return cls(
            dataset,
            data,
            data / "raw",
            data / "truth_none",
            data / f"prepared_{stem}",
            data / f"{stem}.duckdb",
            data / f"published_{stem}",
        )

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            LOYALTY_DATA_DIR=str(self.data_dir),
            LOYALTY_RAW_DIR=str(self.raw_dir),
            LOYALTY_TRUTH_DIR=str(self.truth_dir),
            LOYALTY_PREPARED_DIR=str(self.prepared_dir),
            LOYALTY_DUCKDB_PATH=str(self.warehouse),
            LOYALTY_DATASET=self.dataset,
            DBT_SEND_ANONYMOUS_USAGE_STATS="False",
            GX_ANALYTICS_ENABLED="False",
            DBT_PROFILES_DIR=str(paths.PROJECT_ROOT / "profiles"),
        )
        return env


def dbt_vars(layout: Layout, extra: dict | None = None) -> str:
    variables = {"dataset": layout.dataset}
    variables.update(extra or {})
    return json.dumps(variables)
