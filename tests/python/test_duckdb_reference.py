"""The benchmark's DuckDB reference (bench/duckdb_reference.py) computes exactly the marts
customer_rfm, customer_product_preference and customer_sessions: the same columns with the same
DuckDB types, the same rows, equal values (floats to 1e-9). If this fails, either the reference
or the SQL changed its rules; the dbt / reference ratio of the benchmark is only fair while both
compute the same thing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bad_prepared_rows import dirty_prepared_copy
from conftest import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repo root, for `bench`
from bench import duckdb_reference  # noqa: E402

TOL = 1e-9
MARTS = {"rfm": "customer_rfm", "preference": "customer_product_preference", "sessions": "customer_sessions"}
pytestmark = pytest.mark.slow  # builds the warehouse (lpoint_build)


@pytest.fixture(scope="module")
def reference(lpoint_build):
    return duckdb_reference.run(lpoint_build.prepared_dir)


@pytest.fixture(scope="module")
def marts(lpoint_build):
    con = connect(lpoint_build)
    try:
        return {
            name: {
                "frame": con.sql(f"select * from marts.{mart} order by {duckdb_reference.ORDER[name]}").df(),
                "types": con.sql(f"describe marts.{mart}").fetchall(),
            }
            for name, mart in MARTS.items()
        }
    finally:
        con.close()


def assert_same_values(reference: pd.DataFrame, mart: pd.DataFrame) -> None:
    """Every column: floats to 1e-9 (nulls equal), anything else exactly (nulls equal)."""
    assert len(reference) == len(mart), f"row count: reference {len(reference)} vs mart {len(mart)}"
    for column in mart.columns:
        ours, theirs = reference[column], mart[column]
        if pd.api.types.is_float_dtype(theirs):
            ours, theirs = ours.to_numpy(dtype=float), theirs.to_numpy(dtype=float)
            np.testing.assert_allclose(ours, theirs, rtol=TOL, atol=TOL, equal_nan=True, err_msg=column)
        else:
            differ = ~((ours == theirs) | (ours.isna() & theirs.isna()))
            assert not differ.any(), f"{column}: {int(differ.sum())} rows differ, first at row {int(differ.idxmax())}"


@pytest.mark.parametrize("name", list(MARTS))
def test_reference_has_the_marts_columns_and_types(reference, marts, name):
    assert reference.types[name] == [(column, kind) for column, kind, *_ in marts[name]["types"]]


@pytest.mark.parametrize("name", list(MARTS))
def test_reference_equals_the_mart(reference, marts, name):
    assert_same_values(getattr(reference, name), marts[name]["frame"])


def test_reference_drops_quarantined_rows(lpoint_build, reference, tmp_path):
    """The reference applies the staging quarantine rules: bad rows appended to the prepared
    files change nothing (the SQL side is covered by test_bad_input_quarantine.py)."""
    prepared = dirty_prepared_copy(lpoint_build.prepared_dir, tmp_path / "prepared")
    lpay = prepared / "LPOINT_BIG_COMP_06_LPAY.csv"
    cust, _rct, cop, chnl, de_dt, de_hr, buy_am = lpay.read_text(encoding="utf-8").splitlines()[1].split(",")
    with open(lpay, "a", encoding="utf-8") as handle:  # an affiliate payment without its receipt
        handle.write(f"{cust},NO_SUCH_RECEIPT,A01,{chnl},{de_dt},{de_hr},{buy_am}\n")

    dirty = duckdb_reference.run(prepared)
    for name in MARTS:
        pd.testing.assert_frame_equal(getattr(dirty, name), getattr(reference, name))
