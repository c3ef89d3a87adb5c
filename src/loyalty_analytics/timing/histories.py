"""The input of every timing model: purchase days per customer × item, checked, cut at a date and
summarised per pair with vectorised numpy (no loop over customers or pairs).

A *purchase day* is one row (customer_id, item_id, purchase_date) per distinct day the customer
bought the item (a product, or a category); repeated rows of a day count once. Days are integer
day numbers (days since 1970-01-01) inside the package and become dates only in outputs. Rows are
put in (customer_id, item_id, day) order by value, so every result is the same whatever order a
query returned them in.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

PURCHASE_DAY_COLUMNS = ("customer_id", "item_id", "purchase_date")
EPOCH = np.datetime64("1970-01-01", "D")


def day_number(value) -> int:
    """Days since 1970-01-01 of one date (date, Timestamp or ISO string)."""
    return int((np.datetime64(pd.Timestamp(value).date(), "D") - EPOCH).astype(np.int64))


def day_numbers(values) -> np.ndarray:
    """Days since 1970-01-01 of a column of dates or timestamps (the time of day is dropped)."""
    stamps = pd.to_datetime(pd.Series(values), errors="raise")
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_localize(None)
    return (stamps.to_numpy().astype("datetime64[D]") - EPOCH).astype(np.int64)


def dates_of(days) -> np.ndarray:
    """datetime64[D] of day numbers."""
    return EPOCH + np.asarray(days, dtype=np.int64).astype("timedelta64[D]")


def prepare_purchase_days(frame: pd.DataFrame, as_of=None, after=None) -> pd.DataFrame:
    """The distinct purchase days of ``frame`` (columns :data:`PURCHASE_DAY_COLUMNS`, optional
    ``category``) with ``after < day <= as_of`` (either bound optional), as columns customer_id,
    item_id (strings), day (int64)[, category], sorted by (customer_id, item_id, day) by value."""
    missing = [c for c in PURCHASE_DAY_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"purchase days are missing column(s) {missing}; need {list(PURCHASE_DAY_COLUMNS)}")
    if frame[list(PURCHASE_DAY_COLUMNS)].isna().any().any():
        raise ValueError("purchase days have a null customer_id, item_id or purchase_date")
    out = pd.DataFrame(
        {
            "customer_id": frame["customer_id"].astype(str).to_numpy(),
            "item_id": frame["item_id"].astype(str).to_numpy(),
            "day": day_numbers(frame["purchase_date"].to_numpy()),
        }
    )
    if "category" in frame.columns:
        out["category"] = frame["category"].fillna("").astype(str).to_numpy()
    keep = np.ones(len(out), dtype=bool)
    if as_of is not None:
        keep &= out["day"].to_numpy() <= day_number(as_of)
    if after is not None:
        keep &= out["day"].to_numpy() > day_number(after)
    out = out.loc[keep]
    # sorted factorize codes order like the strings, and integer sorts are much faster
    customer_code = pd.factorize(out["customer_id"].to_numpy(), sort=True)[0]
    item_code = pd.factorize(out["item_id"].to_numpy(), sort=True)[0]
    day = out["day"].to_numpy()
    order = np.lexsort((day, item_code, customer_code))
    repeated = np.zeros(len(order), dtype=bool)
    repeated[1:] = (np.diff(customer_code[order]) == 0) & (np.diff(item_code[order]) == 0) & (np.diff(day[order]) == 0)
    return out.iloc[order[~repeated]].reset_index(drop=True)


@dataclass
class PairHistories:
    """Per pair (``pairs``, one row per customer × item) and per completed interval (``gaps`` in
    days, ``gap_pair`` = the row of its pair): what every model reads."""

    pairs: pd.DataFrame
    gaps: np.ndarray
    gap_pair: np.ndarray

    def take(self, rows: np.ndarray) -> PairHistories:
        """The histories of the pair rows ``rows`` (boolean mask or sorted positions)."""
        positions = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
        new_index = np.full(len(self.pairs), -1, dtype=np.int64)
        new_index[positions] = np.arange(len(positions))
        kept = new_index[self.gap_pair] >= 0
        return PairHistories(
            self.pairs.iloc[positions].reset_index(drop=True), self.gaps[kept], new_index[self.gap_pair[kept]]
        )


def pair_histories(days: pd.DataFrame, as_of) -> PairHistories:
    """Histories of prepared purchase days (:func:`prepare_purchase_days`, cut at ``as_of``).
    ``pairs`` columns: customer_id, item_id[, category], n_days, first_day, last_day,
    n_intervals, sum_intervals, sum_log_intervals, last_interval, days_since_last
    (as_of − last_day), days_since_customer_last (as_of − the customer's last day of any item)."""
    cut = day_number(as_of)
    if len(days) and days["day"].max() > cut:
        raise ValueError("purchase days run past as_of: cut them with prepare_purchase_days(as_of=...)")
    customer, item = days["customer_id"].to_numpy(), days["item_id"].to_numpy()
    day = days["day"].to_numpy(dtype=np.int64)
    new_pair = np.ones(len(days), dtype=bool)
    new_pair[1:] = (customer[1:] != customer[:-1]) | (item[1:] != item[:-1])
    starts = np.flatnonzero(new_pair)
    ends = np.append(starts[1:], len(days)) - 1 if len(days) else np.zeros(0, dtype=np.int64)
    pair_of_row = np.cumsum(new_pair) - 1
    gap = np.diff(day, prepend=0).astype(float)
    is_gap = ~new_pair
    gaps, gap_pair = gap[is_gap], pair_of_row[is_gap]
    n_days = ends - starts + 1
    pairs = pd.DataFrame(
        {
            "customer_id": customer[starts],
            "item_id": item[starts],
            "n_days": n_days.astype(np.int64),
            "first_day": day[starts],
            "last_day": day[ends],
            "n_intervals": (n_days - 1).astype(np.int64),
            "sum_intervals": (day[ends] - day[starts]).astype(float),
            "sum_log_intervals": np.bincount(gap_pair, np.log(gaps), minlength=len(starts)),
            "last_interval": np.where(n_days >= 2, gap[ends], 0.0) if len(days) else np.zeros(0),
        }
    )
    if "category" in days.columns:
        pairs.insert(2, "category", days["category"].to_numpy()[starts])
    pairs["days_since_last"] = (cut - pairs["last_day"]).astype(float)
    customer_last = pairs.groupby("customer_id", sort=False)["last_day"].transform("max").to_numpy()
    pairs["days_since_customer_last"] = (cut - customer_last).astype(float)
    return PairHistories(pairs, gaps, gap_pair.astype(np.int64))


def first_purchase_after(days: pd.DataFrame, after, until) -> pd.DataFrame:
    """customer_id, item_id, next_day: each pair's first purchase day in (after, until]."""
    lo, hi = day_number(after), day_number(until)
    d = days["day"].to_numpy()
    window = days.loc[(d > lo) & (d <= hi), ["customer_id", "item_id", "day"]]
    first = window.groupby(["customer_id", "item_id"], sort=True, as_index=False)["day"].min()
    return first.rename(columns={"day": "next_day"})


def customer_chunks(customer_ids: np.ndarray, max_rows: int) -> Iterator[slice]:
    """Slices of rows sorted by customer, each at most ``max_rows`` long unless one customer has
    more, never splitting a customer: per-pair work runs chunk by chunk in bounded memory."""
    n = len(customer_ids)
    if n == 0:
        return
    bounds = np.append(np.flatnonzero(np.r_[True, customer_ids[1:] != customer_ids[:-1]]), n)
    lo = 0
    while lo < n:
        hi = bounds[np.searchsorted(bounds, lo + max_rows, side="right") - 1]
        if hi <= lo:  # one customer holds more than max_rows: a chunk of its own
            hi = bounds[np.searchsorted(bounds, lo, side="right")]
        yield slice(int(lo), int(hi))
        lo = hi
