"""Rows that parse but are bad data (README "Bad input") go to int_quarantined_rows with
file, line and reason; the build continues and nothing of them reaches int_transactions.
Also the lifetimes boundary case: a customer whose only purchase is on the last day."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from lifetimes.utils import summary_data_from_transaction_data

from conftest import connect
from loyalty_analytics import pipeline

PDDE = "LPOINT_BIG_COMP_02_PDDE.csv"
COP_U = "LPOINT_BIG_COMP_03_COP_U.csv"
LPAY = "LPOINT_BIG_COMP_06_LPAY.csv"
DEMO = "LPOINT_BIG_COMP_01_DEMO.csv"
LAST_DAY_CUSTOMER = "M999999999"


def _line_count(path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


@pytest.fixture(scope="module")
def defective_build(tmp_path_factory):
    """Generate 200 customers, append one defective row per case, build up to customer_rfm."""
    data_dir = tmp_path_factory.mktemp("bad_input")
    raw = data_dir / "raw"
    subprocess.run([sys.executable, "-m", "loyalty_analytics.generator", "--customers", "200", "--seed", "3",
                    "--out-raw", str(raw), "--out-truth", str(data_dir / "truth")], check=True)
    first_line = (raw / PDDE).read_text(encoding="utf-8").splitlines()[1]
    cust, rct, chnl, cop, br, pd_c, de_dt, de_hr, buy_am, buy_ct = first_line.split(",")
    pdde_rows = {
        "duplicate_line": first_line,
        "unknown_product": f"{cust},X1,{chnl},{cop},{br},PD9999,{de_dt},{de_hr},{buy_am},{buy_ct}",
        "unknown_affiliate": f"{cust},X2,{chnl},A99,{br},{pd_c},{de_dt},{de_hr},{buy_am},{buy_ct}",
        "non_positive_amount": f"{cust},X3,{chnl},{cop},{br},{pd_c},{de_dt},{de_hr},-5000,{buy_ct}",
        "zero_amount": f"{cust},X4,{chnl},{cop},{br},{pd_c},{de_dt},{de_hr},0,{buy_ct}",
        "date_outside_period": f"{cust},X5,{chnl},{cop},{br},{pd_c},20220115,{de_hr},{buy_am},{buy_ct}",
        "unknown_customer": f"M000000001,X6,{chnl},{cop},{br},{pd_c},{de_dt},{de_hr},{buy_am},{buy_ct}",
        "last_day_only": f"{LAST_DAY_CUSTOMER},X7,2,A06,,{pd_c},20211231,12,9900,1",
    }
    start = _line_count(raw / PDDE) + 1
    expected = {}
    with open(raw / PDDE, "a", encoding="utf-8") as handle:
        for offset, (case, row) in enumerate(pdde_rows.items()):
            handle.write(row + "\n")
            expected[case] = start + offset
    cop_first = (raw / COP_U).read_text(encoding="utf-8").splitlines()[1].split(",")
    cop_first[2] = "Q01"  # unknown service affiliate
    cop_line = _line_count(raw / COP_U) + 1
    with open(raw / COP_U, "a", encoding="utf-8") as handle:
        handle.write(",".join(cop_first) + "\n")
    with open(raw / DEMO, "a", encoding="utf-8") as handle:
        handle.write(f"{LAST_DAY_CUSTOMER},여성,40대,Z01\n")

    report = pipeline.run("lpoint", data_dir=data_dir, publish=False,
                          dbt_select="+customer_rfm +int_quarantined_rows")
    assert report.ok, report.stages
    return pipeline.Layout.for_dataset("lpoint", data_dir), expected, cop_line


@pytest.mark.slow
def test_each_bad_row_is_quarantined_with_file_line_and_reason(defective_build):
    layout, expected, cop_line = defective_build
    con = connect(layout)
    rows = con.sql("select source_file, source_line, quarantine_reason from intermediate.int_quarantined_rows").df()
    con.close()
    found = {(r.source_file, int(r.source_line)): r.quarantine_reason for r in rows.itertuples()}
    reasons = {
        "duplicate_line": "duplicate_line",
        "unknown_product": "unknown_product",
        "unknown_affiliate": "unknown_affiliate",
        "non_positive_amount": "non_positive_amount",
        "zero_amount": "non_positive_amount",
        "date_outside_period": "date_outside_period",
        "unknown_customer": "unknown_customer",
    }
    for case, reason in reasons.items():
        assert found.get((PDDE, expected[case])) == reason, f"{case} not quarantined as {reason}"
    assert found.get((COP_U, cop_line)) == "unknown_affiliate"
    # nothing else is quarantined: the generator writes clean data
    assert len(found) == len(reasons) + 1, found


@pytest.mark.slow
def test_quarantined_rows_never_reach_transactions(defective_build):
    layout, expected, _ = defective_build
    con = connect(layout)
    leaked = con.sql(
        f"""select count(*) from intermediate.int_transactions
            where transaction_line_id in ({', '.join(f"'lpoint_pdde:{line}'" for case, line in expected.items() if case != 'last_day_only')})"""
    ).fetchall()[0][0]
    kept = con.sql(f"select count(*) from intermediate.int_transactions where customer_id = '{LAST_DAY_CUSTOMER}'").fetchall()[0][0]
    con.close()
    assert leaked == 0
    assert kept == 1


@pytest.mark.slow
def test_rfm_of_last_day_only_customer_equals_lifetimes(defective_build):
    layout, _, _ = defective_build
    con = connect(layout)
    observation_end = con.sql("select observation_end from intermediate.int_run_parameters").fetchall()[0][0]
    tx = con.sql("select customer_id, purchase_date, amount from intermediate.int_transactions").df()
    ours = con.sql("select customer_id, frequency, recency, T, monetary_value from marts.customer_rfm").df().set_index("customer_id")
    con.close()
    tx["purchase_date"] = pd.to_datetime(tx["purchase_date"])
    reference = summary_data_from_transaction_data(tx, "customer_id", "purchase_date", monetary_value_col="amount",
                                                   observation_period_end=pd.Timestamp(observation_end), freq="D")
    assert str(observation_end) == "2021-12-31"
    assert ours.loc[LAST_DAY_CUSTOMER].tolist() == [0.0, 0.0, 0.0, 0.0]
    reference = reference.loc[ours.index]
    for column in ["frequency", "recency", "T", "monetary_value"]:
        np.testing.assert_allclose(ours[column], reference[column], rtol=1e-9, atol=1e-9)
