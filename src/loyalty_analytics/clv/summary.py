"""The input of every CLV function: an RFM summary in lifetimes' format with daily periods
(columns :data:`SUMMARY_COLUMNS`; docs/clv.md, "Input"), checked, and put in an order that
does not depend on how a query returned the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = ("frequency", "recency", "T", "monetary_value")


def summary_arrays(summary: pd.DataFrame, need_monetary: bool = False) -> tuple[np.ndarray, ...]:
    """(frequency, recency, T[, monetary_value]) as float arrays, after checking every row."""
    missing = [c for c in SUMMARY_COLUMNS[: 4 if need_monetary else 3] if c not in summary.columns]
    if missing:
        raise ValueError(f"RFM summary is missing column(s) {missing}; need {list(SUMMARY_COLUMNS)}")
    f = summary["frequency"].to_numpy(dtype=float)
    r = summary["recency"].to_numpy(dtype=float)
    t = summary["T"].to_numpy(dtype=float)
    if len(f) == 0:
        raise ValueError("RFM summary is empty")
    bad = ~np.isfinite(f) | ~np.isfinite(r) | ~np.isfinite(t) | (f < 0) | (r < 0) | (r > t) | (f != np.round(f))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"invalid RFM row {i}: frequency={f[i]}, recency={r[i]}, T={t[i]} "
            "(need integer frequency >= 0 and 0 <= recency <= T)"
        )
    if need_monetary:
        m = summary["monetary_value"].to_numpy(dtype=float)
        return f, r, t, np.nan_to_num(m, nan=0.0)
    return f, r, t


def canonical_order(*columns: np.ndarray) -> tuple[np.ndarray, ...]:
    """The rows of (validated) summary columns sorted by their values, first column first: a
    likelihood summed over them depends only on the rows' values, not on the order a query
    returned them in."""
    order = np.lexsort(columns[::-1])
    return tuple(c[order] for c in columns)


def by_customer(frame: pd.DataFrame, id_column: str = "customer_id") -> pd.DataFrame:
    """Rows sorted by customer id (when the frame has one), so metric sums over customers come
    out the same whatever order the rows were read in."""
    if id_column not in frame.columns:
        return frame
    return frame.iloc[np.argsort(frame[id_column].astype(str).to_numpy(), kind="stable")].reset_index(drop=True)
