"""Read-only access to the published marts, with cached queries.

The dashboard reads only a published release, never the build file:
``<published dir>/current`` is a symlink that the publisher swaps atomically. Every query
resolves it once (``os.path.realpath``), opens that release's ``loyalty_marts.duckdb``
read-only, runs, and closes the file, so no lock is held between queries and a query never
mixes two releases. Results are cached per (release folder, SQL, parameters): a new release
is a new cache key, so nothing stale is served after a swap.

The published folder is, first match wins: ``--published-dir DIR`` after ``--`` on the
``streamlit run`` command line, the environment variable ``LOYALTY_PUBLISHED_DIR``, or
``data/published`` under the project root.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PUBLISHED_DIR = PROJECT_ROOT / "data" / "published"
ENV_VAR = "LOYALTY_PUBLISHED_DIR"
SERVING_DB = "loyalty_marts.duckdb"  # the publisher's serving file (schema marts, meta)
CURRENCY_BY_DATASET = {"lpoint": "KRW", "cdnow": "USD", "cdnow_sample": "USD"}


class NoRelease(RuntimeError):
    """The published folder holds no release yet."""


def published_dir(argv: list[str] | None = None) -> Path:
    """The folder holding ``current`` (see the module docstring for the precedence)."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--published-dir")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    value = args.published_dir or os.environ.get(ENV_VAR)
    path = Path(value) if value else DEFAULT_PUBLISHED_DIR
    return path if path.is_absolute() else (Path.cwd() / path)


def current_release() -> Path:
    """The release folder ``current`` points at now (resolved once per call)."""
    current = published_dir() / "current"
    release = Path(os.path.realpath(current))
    if not (release / SERVING_DB).is_file():
        raise NoRelease(f"no published release under {published_dir()} (run `make demo` first)")
    return release


@st.cache_data(show_spinner=False, max_entries=512)
def _run(release: str, sql: str, params: tuple) -> pd.DataFrame:
    con = duckdb.connect(str(Path(release) / SERVING_DB), read_only=True)
    try:
        con.execute("set enable_progress_bar = false")
        return con.sql(sql, params=list(params)).to_arrow_table().to_pandas()
    finally:
        con.close()


def query(sql: str, params: tuple | list = ()) -> pd.DataFrame:
    """Run `sql` (tables as ``marts.<name>``) on the current release; cached per release."""
    return _run(str(current_release()), sql, tuple(params))


def scalar(sql: str, params: tuple | list = ()):
    frame = query(sql, params)
    return None if frame.empty else frame.iat[0, 0]


# -- what this release holds ------------------------------------------------------------------


@st.cache_data(show_spinner=False, max_entries=16)
def _catalog(release: str) -> dict[str, tuple[str, ...]]:
    frame = _run(
        release,
        "select table_name, column_name from information_schema.columns "
        "where table_schema = 'marts' order by table_name, ordinal_position",
        (),
    )
    return {t: tuple(g["column_name"]) for t, g in frame.groupby("table_name", sort=False)}


def marts() -> dict[str, tuple[str, ...]]:
    """Every mart of the current release with its columns."""
    return _catalog(str(current_release()))


def has(mart: str, *columns: str) -> bool:
    """The mart is published (and has these columns)."""
    cols = marts().get(mart)
    return cols is not None and all(c in cols for c in columns)


def columns(mart: str) -> tuple[str, ...]:
    return marts().get(mart, ())


def has_rows(mart: str, where: str = "true") -> bool:
    return has(mart) and bool(scalar(f"select count(*) > 0 from marts.{mart} where {where}"))


@dataclass(frozen=True)
class ReleaseInfo:
    release_id: str
    published_at: object
    dataset: str | None
    folder: Path

    @property
    def currency(self) -> str:
        return CURRENCY_BY_DATASET.get(self.dataset or "", "")


def release_info() -> ReleaseInfo:
    meta = query("select release_id, published_at from meta.release")
    dataset = scalar("select any_value(dataset) from marts.model_metrics") if has("model_metrics", "dataset") else None
    return ReleaseInfo(str(meta.iat[0, 0]), meta.iat[0, 1], dataset, current_release())


def has_lpay() -> bool:
    """The dataset records L.Pay: the sales marts' L.Pay columns are non-null (null = no L.Pay),
    or, in a release without them, some customer paid with L.Pay."""
    if has("sales_daily", "lpay_receipts"):
        return bool(scalar("select count(lpay_receipts) > 0 from marts.sales_daily"))
    if has("customer_rfm", "lpay_payments", "lpay_receipts"):
        return bool(scalar("select sum(lpay_payments) + sum(lpay_receipts) > 0 from marts.customer_rfm"))
    return False


def has_demographics() -> bool:
    return has("customer_360", "gender", "age_band") and has_rows("customer_360", "gender is not null")


def find_mart(*name_parts: str, needs: tuple[str, ...] = ("customer_id",)) -> str | None:
    """The first published mart whose name contains one of `name_parts` and that has the
    columns `needs` (marts that a later release may add under a name not fixed yet)."""
    for name in sorted(marts()):
        if any(part in name for part in name_parts) and has(name, *needs):
            return name
    return None
