"""A copy of a build's prepared L.Point files with one bad row of every kind the staging
quarantine sets aside appended (PDDE and COP_U): the peers of the feature marts
(bench/pandas_peer.py, bench/duckdb_reference.py) must give the same results on it."""

from __future__ import annotations

import shutil
from pathlib import Path


def dirty_prepared_copy(prepared_dir: Path, target: Path) -> Path:
    """``target`` = a copy of ``prepared_dir`` plus the bad rows; returns ``target``."""
    shutil.copytree(prepared_dir, target)
    pdde = target / "LPOINT_BIG_COMP_02_PDDE.csv"
    first = pdde.read_text(encoding="utf-8").splitlines()[1]
    cust, _rct, chnl, cop, br, pd_c, de_dt, de_hr, buy_am, buy_ct = first.split(",")
    bad_pdde = [
        first,  # duplicate line
        f"{cust},X1,{chnl},{cop},{br},PD9999,{de_dt},{de_hr},{buy_am},{buy_ct}",  # unknown product
        f"{cust},X2,{chnl},A99,{br},{pd_c},{de_dt},{de_hr},{buy_am},{buy_ct}",  # unknown affiliate
        f"{cust},X3,{chnl},B01,{br},{pd_c},{de_dt},{de_hr},{buy_am},{buy_ct}",  # service affiliate in PDDE
        f"{cust},X4,3,{cop},{br},{pd_c},{de_dt},{de_hr},{buy_am},{buy_ct}",  # unknown channel
        f"{cust},X5,{chnl},{cop},{br},{pd_c},{de_dt},{de_hr},-5000,{buy_ct}",  # negative amount
        f"{cust},X6,{chnl},{cop},{br},{pd_c},{de_dt},{de_hr},{buy_am},0",  # zero quantity
        f"{cust},X7,{chnl},{cop},{br},{pd_c},20220115,{de_hr},{buy_am},{buy_ct}",  # outside the period
        f"M000000001,X8,{chnl},{cop},{br},{pd_c},{de_dt},{de_hr},{buy_am},{buy_ct}",  # unknown customer
    ]
    with open(pdde, "a", encoding="utf-8") as handle:
        handle.write("\n".join(bad_pdde) + "\n")
    cop_u = target / "LPOINT_BIG_COMP_03_COP_U.csv"
    fields = cop_u.read_text(encoding="utf-8").splitlines()[1].split(",")
    unknown_service, retail_in_cop, zero = fields.copy(), fields.copy(), fields.copy()
    unknown_service[2], retail_in_cop[2], zero[8] = "Q01", "A01", "0"
    with open(cop_u, "a", encoding="utf-8") as handle:  # a duplicate, an unknown service, a retail code, zero
        handle.write("\n".join(",".join(row) for row in (fields, unknown_service, retail_in_cop, zero)) + "\n")
    return target
