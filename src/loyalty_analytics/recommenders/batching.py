"""Customer batches that fit a memory budget.

Every dense ``[customers, products]`` array the recommenders build — scores, candidate masks,
softmax temporaries, similarity blocks — is built for a batch of rows whose size adapts to
the number of columns: ``rows × columns ≤ SCORE_BUDGET / share`` floats, where ``share`` is the
number of such arrays the caller keeps alive at once (the budget itself is 128 MB of float32),
and never more than ``MAX_ROWS`` rows. At the generated data's 1,933 products the score arrays
keep the old fixed 2,048 rows; at The Complete Journey's 92,348 products they get 363 rows.
The budget is read at call time, so a test can lower it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["MAX_ROWS", "SCORE_BUDGET", "batch_rows", "row_batches"]

SCORE_BUDGET = 32 * 1024 * 1024  # floats per dense [rows, columns] array
MAX_ROWS = 2048


def batch_rows(n_columns: int, share: int = 1, max_rows: int | None = MAX_ROWS) -> int:
    """Rows per batch so that ``share`` arrays of [rows, n_columns] fit the budget (≥ 1 row)."""
    rows = SCORE_BUDGET // (max(int(share), 1) * max(int(n_columns), 1))
    return int(max(1, rows if max_rows is None else min(max_rows, rows)))


def row_batches(rows: np.ndarray, n_columns: int, share: int = 1) -> Iterator[np.ndarray]:
    """``rows`` cut into consecutive batches of :func:`batch_rows` rows."""
    step = batch_rows(n_columns, share)
    for start in range(0, len(rows), step):
        yield rows[start : start + step]
