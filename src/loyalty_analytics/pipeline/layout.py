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
INGEST_REPORT = "_ingest_report.json"  # written by loyalty_analytics.ingest into the prepared folder


@dataclass
class Layout:
    """Where one dataset's files go. Every dataset but L.Point gets its own warehouse file and
    published folder (data/cdnow.duckdb, data/online_retail.duckdb, data/published_<name>), so
    none overwrites another's build. A dataset of the generic contract is a mapping config
    (``config``); its files are read from ``source_dir`` when given, else found by ingest
    (ingest.mapping.source_dir)."""

    dataset: str
    data_dir: Path
    raw_dir: Path
    truth_dir: Path
    prepared_dir: Path
    warehouse: Path
    published_dir: Path
    config: Path | None = None
    source_dir: Path | None = None
    sample_customers: int | None = None  # a mapping config's deterministic customer sample (CI)

    @property
    def dbt_dir(self) -> Path:
        """dbt's target/ and logs/: the project's own for the default data folder, else one
        beside the data, so concurrent builds (tests, benchmarks) never share dbt state."""
        if self.data_dir == (paths.PROJECT_ROOT / "data").resolve():
            return paths.PROJECT_ROOT
        return self.data_dir / "dbt"

    @property
    def target_path(self) -> Path:
        """dbt's target/ of this layout (run_results.json, manifest)."""
        return Path(os.environ.get("DBT_TARGET_PATH") or self.dbt_dir / "target")

    def dbt_args(self) -> list[str]:
        target = str(self.target_path)
        logs = os.environ.get("DBT_LOG_PATH") or str(self.dbt_dir / "logs")
        return [
            "--project-dir",
            str(paths.PROJECT_ROOT),
            "--profiles-dir",
            str(paths.PROJECT_ROOT),
            "--target-path",
            target,
            "--log-path",
            logs,
        ]

    @classmethod
    def for_dataset(
        cls,
        dataset: str,
        data_dir: Path | None = None,
        source_dir: Path | None = None,
        sample_customers: int | None = None,
    ) -> Layout:
        """``dataset``: lpoint, cdnow, cdnow_sample, or a mapping config (the name of
        datasets/<name>.yml or a path to a .yml; ``sample_customers`` builds a deterministic
        sample of it into files of its own, <name>_sample)."""
        data = Path(data_dir).resolve() if data_dir else paths.data_dir()
        if dataset not in DATASETS:
            return cls._for_config(dataset, data, source_dir, sample_customers)
        if sample_customers is not None:
            raise SystemExit(f"error: --sample-customers applies to a mapping config, not to {dataset!r}")
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

    @classmethod
    def _for_config(cls, dataset: str, data: Path, source_dir: Path | None, sample_customers: int | None) -> Layout:
        from loyalty_analytics.ingest import InputError, mapping

        try:
            config = mapping.config_path(dataset)
            name = mapping.load(config).name
        except InputError as error:
            raise SystemExit(f"error: {error}") from None
        if sample_customers is not None and sample_customers < 1:
            raise SystemExit(f"error: --sample-customers must be at least 1, not {sample_customers}")
        stem = name if sample_customers is None else f"{name}_sample"
        return cls(
            name,
            data,
            data / "raw",
            data / "truth_none",  # no generator truth: evaluation never reads L.Point's
            data / f"prepared_{stem}",
            data / f"{stem}.duckdb",
            data / f"published_{stem}",
            config=config,
            source_dir=Path(source_dir).resolve() if source_dir else None,
            sample_customers=sample_customers,
        )

    def ingest_args(self) -> list[str]:
        """What tells `python -m loyalty_analytics.ingest` this dataset and where its files are."""
        if self.config is None:
            return ["--dataset", self.dataset, "--raw-dir", str(self.raw_dir)]
        found = ["--source-dir", str(self.source_dir)] if self.source_dir else []
        sample = ["--sample-customers", str(self.sample_customers)] if self.sample_customers is not None else []
        return ["--dataset", str(self.config), *found, *sample]

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
            DBT_PROFILES_DIR=str(paths.PROJECT_ROOT),
        )
        return env


def dbt_vars(layout: Layout, extra: dict | None = None) -> str:
    """The vars of the dbt build: the dataset, its dbt source and capabilities (the contract's
    for a built-in dataset; for a mapping config the ones ingest derived from the config and the
    data, with its dates and bounds: `dbt_vars` of the ingest report), then ``extra``."""
    if layout.config is None:
        from loyalty_analytics.ingest.preflight import builtin_dbt_vars

        variables = builtin_dbt_vars(layout.dataset)
    else:
        report = layout.prepared_dir / INGEST_REPORT
        variables = json.loads(report.read_text(encoding="utf-8"))["dbt_vars"]
    variables.update(extra or {})
    return json.dumps(variables)
