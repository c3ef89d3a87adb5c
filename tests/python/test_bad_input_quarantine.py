"""Rows that parse but are bad data (README "Bad input") go to int_quarantined_rows with
file, line and reason; the build continues and nothing of them reaches int_transactions.
Also the lifetimes boundary case: a customer whose only purchase is on the last day."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest
from conftest import connect
from lifetimes.utils import summary_data_from_transaction_data

from loyalty_analytics import pipeline

PDDE = "LPOINT_BIG_COMP_02_PDDE.csv"
COP_U = "LPOINT_BIG_COMP_03_COP_U.csv"
LPAY = "LPOINT_BIG_COMP_06_LPAY.csv"
DEMO = "LPOINT_BIG_COMP_01_DEMO.csv"
LAST_DAY_CUSTOMER = "M999999999"
THIRTY_NINES = "9" * 30


@dataclass
class DefectiveBuild:
    layout: pipeline.Layout
    pdde_lines: dict[str, int]  # case -> line of the appended PDDE row
    cop_u_lines: dict[str, int]
    lpay_lines: dict[str, int]
    orphan_only_customer: str  # its only L.Pay row is an orphan payment
    outside_only_customer: str  # its only L.Pay row is an L00 payment (no receipt, not an orphan)


def _line_count(path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for _ in handle)


def _append(path, rows: dict[str, str]) -> dict[str, int]:
    """Append the rows; return case -> line number in the file (header = 1)."""
    start = _line_count(path) + 1
    with open(path, "a", encoding="utf-8") as handle:
        handle.writelines(row + "\n" for row in rows.values())
    return {case: start + offset for offset, case in enumerate(rows)}


def _buyers_without_lpay(raw) -> list[str]:
    """Known customers with purchase lines (so customer_rfm has a row for them) and no L.Pay row."""
    known = set(pd.read_csv(raw / DEMO, dtype=str, usecols=["cust"])["cust"])
    buyers = known & set(pd.read_csv(raw / PDDE, dtype=str, usecols=["cust"])["cust"])
    payers = set(pd.read_csv(raw / LPAY, dtype=str, usecols=["cust"])["cust"])
    return sorted(buyers - payers)


@pytest.fixture(scope="module")
def defective_build(tmp_path_factory) -> DefectiveBuild:
    """Generate 200 customers, append one defective row per case, build up to customer_rfm."""
    data_dir = tmp_path_factory.mktemp("bad_input")
    raw = data_dir / "raw"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "loyalty_analytics.generator",
            "--customers",
            "200",
            "--seed",
            "3",
            "--out-raw",
            str(raw),
            "--out-truth",
            str(data_dir / "truth"),
        ],
        check=True,
    )
    orphan_only, outside_only, other_customer = _buyers_without_lpay(raw)[:3]
    first_line = (raw / PDDE).read_text(encoding="utf-8").splitlines()[1]
    cust, rct, chnl, cop, br, pd_c, de_dt, de_hr, buy_am, buy_ct = first_line.split(",")
    pdde_lines = _append(
        raw / PDDE,
        {
            "duplicate_line": first_line,
            "unknown_product": f"{cust},X1,{chnl},{cop},{br},PD9999,{de_dt},{de_hr},{buy_am},{buy_ct}",
            "unknown_affiliate": f"{cust},X2,{chnl},A99,{br},{pd_c},{de_dt},{de_hr},{buy_am},{buy_ct}",
            "non_positive_amount": f"{cust},X3,{chnl},{cop},{br},{pd_c},{de_dt},{de_hr},-5000,{buy_ct}",
            "zero_amount": f"{cust},X4,{chnl},{cop},{br},{pd_c},{de_dt},{de_hr},0,{buy_ct}",
            "date_outside_period": f"{cust},X5,{chnl},{cop},{br},{pd_c},20220115,{de_hr},{buy_am},{buy_ct}",
            "unknown_customer": f"M000000001,X6,{chnl},{cop},{br},{pd_c},{de_dt},{de_hr},{buy_am},{buy_ct}",
            "last_day_only": f"{LAST_DAY_CUSTOMER},X7,2,A06,,{pd_c},20211231,12,9900,1",
            "amount_1e15": f"{cust},X8,{chnl},{cop},{br},{pd_c},{de_dt},{de_hr},1000000000000000,{buy_ct}",
            "amount_30_nines": f"{cust},X9,{chnl},{cop},{br},{pd_c},{de_dt},{de_hr},{THIRTY_NINES},{buy_ct}",
            "quantity_2_million": f"{cust},X10,{chnl},{cop},{br},{pd_c},{de_dt},{de_hr},{buy_am},2000000",
        },
    )
    cop_first = (raw / COP_U).read_text(encoding="utf-8").splitlines()[1].split(",")
    unknown_service = [*cop_first[:2], "Q01", *cop_first[3:]]
    huge_service = [cop_first[0], "X11", *cop_first[2:8], "1000000000000000"]
    cop_u_lines = _append(
        raw / COP_U, {"unknown_affiliate": ",".join(unknown_service), "amount_1e15": ",".join(huge_service)}
    )
    lpay_lines = _append(
        raw / LPAY,
        {
            # an affiliate payment whose receipt is in neither PDDE nor COP_U
            "orphan_no_receipt": f"{orphan_only},A01999999999,A01,1,{de_dt},{de_hr},15000",
            # the receipt exists, but for another customer
            "orphan_other_customers_receipt": f"{other_customer},{rct},{cop},{chnl},{de_dt},{de_hr},{buy_am}",
            # the receipt exists only as a quarantined row (X3: non_positive_amount)
            "orphan_quarantined_receipt": f"{cust},X3,{cop},{chnl},{de_dt},{de_hr},5000",
            # outside the affiliates: no PDDE/COP_U receipt by design, a clean payment
            "outside_affiliates": f"{outside_only},L00999999999,L00,1,{de_dt},{de_hr},20000",
            "amount_1e15": f"{cust},{rct},{cop},{chnl},{de_dt},{de_hr},1000000000000000",
        },
    )
    with open(raw / DEMO, "a", encoding="utf-8") as handle:
        handle.write(f"{LAST_DAY_CUSTOMER},여성,40대,Z01\n")

    report = pipeline.run("lpoint", data_dir=data_dir, publish=False, dbt_select="+customer_rfm +int_quarantined_rows")
    assert report.ok, report.stages
    return DefectiveBuild(
        pipeline.Layout.for_dataset("lpoint", data_dir), pdde_lines, cop_u_lines, lpay_lines, orphan_only, outside_only
    )


def _quarantined(build: DefectiveBuild) -> dict[tuple[str, int], str]:
    con = connect(build.layout)
    rows = con.sql("select source_file, source_line, quarantine_reason from intermediate.int_quarantined_rows").df()
    con.close()
    return {(r.source_file, int(r.source_line)): r.quarantine_reason for r in rows.itertuples()}


PDDE_REASONS = {
    "duplicate_line": "duplicate_line",
    "unknown_product": "unknown_product",
    "unknown_affiliate": "unknown_affiliate",
    "non_positive_amount": "non_positive_amount",
    "zero_amount": "non_positive_amount",
    "date_outside_period": "date_outside_period",
    "unknown_customer": "unknown_customer",
    "amount_1e15": "implausible_amount",
    "amount_30_nines": "implausible_amount",
    "quantity_2_million": "implausible_quantity",
}
COP_U_REASONS = {"unknown_affiliate": "unknown_affiliate", "amount_1e15": "implausible_amount"}
LPAY_REASONS = {
    "orphan_no_receipt": "orphan_payment",
    "orphan_other_customers_receipt": "orphan_payment",
    "orphan_quarantined_receipt": "orphan_payment",
    "amount_1e15": "implausible_amount",
}


@pytest.mark.slow
def test_each_bad_row_is_quarantined_with_file_line_and_reason(defective_build):
    found = _quarantined(defective_build)
    for file_name, lines, reasons in [
        (PDDE, defective_build.pdde_lines, PDDE_REASONS),
        (COP_U, defective_build.cop_u_lines, COP_U_REASONS),
        (LPAY, defective_build.lpay_lines, LPAY_REASONS),
    ]:
        for case, reason in reasons.items():
            assert found.get((file_name, lines[case])) == reason, f"{file_name} {case} not quarantined as {reason}"
    # nothing else is quarantined: the generator writes clean data, and an L00 payment
    # without a PDDE/COP_U receipt is not an orphan
    assert len(found) == len(PDDE_REASONS) + len(COP_U_REASONS) + len(LPAY_REASONS), found
    assert (LPAY, defective_build.lpay_lines["outside_affiliates"]) not in found


@pytest.mark.slow
def test_quarantined_rows_never_reach_transactions(defective_build):
    ids = [f"'lpoint_pdde:{defective_build.pdde_lines[case]}'" for case in PDDE_REASONS]
    ids += [f"'lpoint_cop_u:{defective_build.cop_u_lines[case]}'" for case in COP_U_REASONS]
    con = connect(defective_build.layout)
    leaked = con.sql(
        f"select count(*) from intermediate.int_transactions where transaction_line_id in ({', '.join(ids)})"
    ).fetchall()[0][0]
    kept = con.sql(
        f"select count(*) from intermediate.int_transactions where customer_id = '{LAST_DAY_CUSTOMER}'"
    ).fetchall()[0][0]
    max_amount = con.sql("select max(spend) from intermediate.int_transactions").fetchall()[0][0]
    con.close()
    assert leaked == 0
    assert kept == 1
    assert max_amount < 1e9


@pytest.mark.slow
def test_orphan_payments_are_not_counted_but_outside_payments_are(defective_build):
    con = connect(defective_build.layout)
    payments = dict(
        con.sql(
            "select customer_id, lpay_payments from marts.customer_rfm where customer_id in "
            f"('{defective_build.orphan_only_customer}', '{defective_build.outside_only_customer}')"
        ).fetchall()
    )
    con.close()
    assert payments == {defective_build.orphan_only_customer: 0, defective_build.outside_only_customer: 1}


@pytest.mark.slow
def test_quarantine_counts_are_printed_per_reason(defective_build, capsys):
    pipeline.print_quarantine_counts(defective_build.layout.warehouse)
    printed = capsys.readouterr().out
    for file_name, reason, count in [
        (PDDE, "implausible_amount", 2),
        (PDDE, "implausible_quantity", 1),
        (COP_U, "implausible_amount", 1),
        (LPAY, "orphan_payment", 3),
        (LPAY, "implausible_amount", 1),
    ]:
        assert any(
            file_name in line and reason in line.split() and line.split()[-1] == str(count)
            for line in printed.splitlines()
        ), (file_name, reason, printed)


@pytest.mark.slow
def test_rfm_of_last_day_only_customer_equals_lifetimes(defective_build):
    con = connect(defective_build.layout)
    observation_end = con.sql("select observation_end from intermediate.int_run_parameters").fetchall()[0][0]
    tx = con.sql("select customer_id, purchase_date, spend as amount from intermediate.int_transactions").df()
    ours = (
        con.sql("select customer_id, frequency, recency, T, monetary_value from marts.customer_rfm")
        .df()
        .set_index("customer_id")
    )
    con.close()
    tx["purchase_date"] = pd.to_datetime(tx["purchase_date"])
    reference = summary_data_from_transaction_data(
        tx,
        "customer_id",
        "purchase_date",
        monetary_value_col="amount",
        observation_period_end=pd.Timestamp(observation_end),
        freq="D",
    )
    assert str(observation_end) == "2021-12-31"
    assert ours.loc[LAST_DAY_CUSTOMER].tolist() == [0.0, 0.0, 0.0, 0.0]
    reference = reference.loc[ours.index]
    for column in ["frequency", "recency", "T", "monetary_value"]:
        np.testing.assert_allclose(ours[column], reference[column], rtol=1e-9, atol=1e-9)
