"""The generator's planted ground truth, read side. Models never read it; evaluations do, and
only when it belongs to the data being evaluated.

Staleness rule (one place): a truth file is used only when its customer ids are unique and
every customer of the data is in it (the truth may also hold customers who never purchased).
A truth folder left over from another run, next to other data, fails that check and is ignored.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

CUSTOMERS_FILE = "customers.parquet"


def customers_file(truth_dir: str | Path | None = None) -> Path:
    from loyalty_analytics.paths import truth_dir as default_truth_dir

    return Path(truth_dir if truth_dir is not None else default_truth_dir()) / CUSTOMERS_FILE


def _covers(truth_ids: pd.Series, customer_ids) -> bool:
    ids = pd.Index(pd.Series(customer_ids).astype(str))
    truth_index = pd.Index(truth_ids.astype(str))
    return len(ids) > 0 and truth_index.is_unique and bool(ids.isin(truth_index).all())


def _read(path: Path, columns) -> pd.DataFrame | None:
    if not path.exists():
        return None
    try:
        return pd.read_parquet(path, columns=columns)
    except Exception:  # unreadable or lacking a column: no truth rather than a failed build
        return None


def truth_matches(customer_ids, truth_dir: str | Path | None = None) -> bool:
    """Whether the truth in ``truth_dir`` (default: ``paths.truth_dir()``) belongs to this data."""
    truth = _read(customers_file(truth_dir), ["customer_id"])
    return truth is not None and _covers(truth["customer_id"], customer_ids)


def load_truth(customer_ids, columns=None, truth_dir: str | Path | None = None) -> pd.DataFrame | None:
    """Planted truth (``customer_id`` + ``columns``, all when None) aligned row by row to
    ``customer_ids``, or None when there is no matching truth."""
    truth = _read(customers_file(truth_dir), None if columns is None else ["customer_id", *columns])
    if truth is None or not _covers(truth["customer_id"], customer_ids):
        return None
    ids = pd.Index(pd.Series(customer_ids).astype(str))
    truth = truth.assign(customer_id=truth["customer_id"].astype(str)).set_index("customer_id")
    return truth.loc[ids].reset_index()
