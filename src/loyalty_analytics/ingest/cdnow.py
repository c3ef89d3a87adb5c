"""The CDNOW datasets: a published log (contract.CDNOW_LOGS, shipped inside the lifetimes
package) converted into the CDNOW transactions table (contract.CDNOW), with its published
customer / transaction counts asserted."""

from __future__ import annotations

import os
import time
from pathlib import Path

from loyalty_analytics.contract import CDNOW, CDNOW_LOGS, PublishedLog

from .errors import InputError
from .output import atomic_target

# Text checks (pandas); values fit int64 / float64.
_INT_RE = r"[+-]?[0-9]{1,18}"
_NUMERIC_RE = r"[+-]?([0-9]{1,30}(\.[0-9]*)?|\.[0-9]+)"

TRANSACTIONS = CDNOW.table("transactions")


def cdnow_source(dataset: str, raw_dir: Path | None = None) -> Path:
    """The CDNOW file: ``raw_dir/<name>`` if present there, else the copy in lifetimes."""
    fname = CDNOW_LOGS[dataset].file
    if raw_dir is not None and (raw_dir / fname).is_file():
        return raw_dir / fname
    import importlib.util

    # find_spec locates the package without importing it (importing lifetimes costs ~1 s).
    spec = importlib.util.find_spec("lifetimes")
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0] if locations else ".") / "datasets" / fname
    if not path.is_file():
        raise InputError(f"missing input file: {fname} (not in {raw_dir} nor in the lifetimes package)")
    return path


def _read_log(path: Path, fname: str):
    """The log's fields as text, named by its layout (master: 4 columns with a header line;
    sample: 5 columns, no header), and the 1-based file line of each row."""
    import pandas as pd

    raw = pd.read_csv(path, sep=r"\s+", header=None, dtype=str, engine="c")
    header_lines = 0
    if not raw.empty and not str(raw.iat[0, 0]).isdigit():
        raw = raw.iloc[1:].reset_index(drop=True)
        header_lines = 1
    layouts = {len(log.columns): log.columns for log in CDNOW_LOGS.values()}
    if raw.shape[1] not in layouts:
        raise InputError(
            f"{fname}: expected 4 (master) or 5 (sample) whitespace-separated columns, found {raw.shape[1]}"
        )
    raw.columns = list(layouts[raw.shape[1]])
    lines = pd.Series(range(1 + header_lines, len(raw) + 1 + header_lines))
    return raw, lines


def _check_values(raw, lines, date, fname: str) -> None:
    checks = {
        "customer_id": raw["customer_id"].str.fullmatch(r"[0-9]+").fillna(False).astype(bool),
        "date": date.notna(),
        "quantity": raw["quantity"].str.fullmatch(_INT_RE).fillna(False).astype(bool),
        "amount": raw["amount"].str.fullmatch(_NUMERIC_RE).fillna(False).astype(bool),
    }
    for col, ok in checks.items():
        if not ok.all():
            i = int((~ok).to_numpy().argmax())
            raise InputError(
                f"{fname} line {int(lines.iat[i])}, column {col}: value "
                f"{raw[col].iat[i]!r} is invalid; {int((~ok).sum())} bad value(s)"
            )


def _check_counts(log: PublishedLog, customers: int, transactions: int) -> None:
    if (customers, transactions) != (log.customers, log.transactions):
        raise InputError(
            f"{log.file}: expected {log.customers:,} customers / {log.transactions:,} transactions, "
            f"found {customers:,} / {transactions:,} — the file is not the published CDNOW log"
        )


def prepare_cdnow(dataset: str, raw_dir: Path | None, out_dir: Path, log) -> list[dict]:
    import pandas as pd

    t0 = time.perf_counter()
    published = CDNOW_LOGS[dataset]
    fname = published.file
    path = cdnow_source(dataset, raw_dir)
    if path.stat().st_size == 0:
        raise InputError(f"{fname} line 1: file is empty (0 bytes)")
    raw, lines = _read_log(path, fname)
    date = pd.to_datetime(raw["date"], format="%Y%m%d", errors="coerce")
    _check_values(raw, lines, date, fname)
    customer_id, purchase_date, quantity, amount = TRANSACTIONS.column_names
    out_df = pd.DataFrame(
        {
            customer_id: raw["customer_id"],
            purchase_date: date.dt.strftime("%Y-%m-%d"),
            quantity: raw["quantity"].astype("int64"),
            amount: raw["amount"],
        }
    )
    customers, tx = out_df[customer_id].nunique(), len(out_df)
    _check_counts(published, customers, tx)
    out = out_dir / TRANSACTIONS.file
    tmp = atomic_target(out)
    out_df.to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, out)
    seconds = time.perf_counter() - t0
    log(f"{fname} -> {TRANSACTIONS.file}: {tx:,} rows, {customers:,} customers, {seconds:.2f} s")
    return [
        {
            "file": TRANSACTIONS.file,
            "source": str(path),
            "prepared": str(out),
            "rows": tx,
            "customers": customers,
            "bytes": path.stat().st_size,
            "encoding": "ascii",
            "action": f"converted from {fname} (whitespace-separated, YYYYMMDD)",
            "seconds": round(seconds, 3),
            "data_quality": {
                "non_positive_amount": int((pd.to_numeric(out_df[amount]) <= 0).sum()),
            },
        }
    ]
