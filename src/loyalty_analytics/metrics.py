"""Metric rows: the one shape every evaluation of this package returns and ``model_metrics``
publishes, ``(model_name, metric, k, split, value)``.

``k`` is the cut-off of a top-K metric or the cluster count of a k-selection row, else null;
``split`` says what the value was measured on (holdout, full, truth, k_selection, …).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

METRIC_COLUMNS = ["model_name", "metric", "k", "split", "value"]


def metric_row(model_name: str, metric: str, value, split: str = "full", k: int | None = None) -> tuple:
    return (model_name, metric, None if k is None else int(k), split, float(value))


def metric_rows(model_name: str, values: Mapping[str, float], split: str, k: int | None = None) -> list[tuple]:
    """One row per ``{metric: value}`` entry, in the mapping's order."""
    return [metric_row(model_name, metric, value, split, k) for metric, value in values.items()]


def metrics_frame(rows: Iterable[tuple], extra_columns: Iterable[str] = ()) -> pd.DataFrame:
    """Rows as a frame with nullable integer ``k`` and float ``value``; ``extra_columns`` name
    any values the rows carry after the five standard ones (e.g. ``n_customers``)."""
    frame = pd.DataFrame(list(rows), columns=[*METRIC_COLUMNS, *extra_columns])
    frame["k"] = frame["k"].astype("Int64")
    frame["value"] = frame["value"].astype(float)
    return frame
