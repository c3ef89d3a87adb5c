"""Helpers for the thin dbt Python models. The models keep their literal `dbt.ref("…")`
calls (dbt finds dependencies by reading them) and hand the relations to these helpers.

Relations go through Arrow (`to_arrow_table()`): several times faster than `.df()`, and
unlike `.arrow()` it does not leave the DuckDB connection busy for the next ref."""

from __future__ import annotations

import pandas as pd


def frames(**relations) -> dict[str, pd.DataFrame]:
    return {name: relation.to_arrow_table().to_pandas() for name, relation in relations.items()}


def settings(run_parameters) -> dict:
    """The one row of int_run_parameters: anchor dates and model settings (dbt vars)."""
    return run_parameters.to_arrow_table().to_pylist()[0]
