"""Write the six LPOINT_BIG_COMP CSV files (UTF-8, no BOM, header, unquoted)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from loyalty_analytics.contract import LPAY, LPOINT

from . import params as P

# table name -> (file name, columns), as the input contract declares them
FILES = {table.name: (table.file, list(table.column_names)) for table in LPOINT.tables}
# L.Pay payments outside the affiliates: index 0 offline, 1 online
OUTSIDE_CODES = list(LPOINT.affiliate_codes(LPAY))

DATE_INT = np.array(
    [int((P.YEAR_START + dt.timedelta(days=i)).strftime("%Y%m%d")) for i in range(P.N_DAYS)], dtype=np.int64
)


def _take(values, idx) -> pa.Array:
    return pa.array(values, type=pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64)))


def rct_strings(cop_idx: np.ndarray, counter: np.ndarray, codes=P.AFFILIATES) -> pa.Array:
    """rct_no = issuing code + 9-digit global counter (e.g. A01000001113)."""
    num = pc.utf8_lpad(pc.cast(pa.array(counter, pa.int64()), pa.string()), 9, "0")
    return pc.binary_join_element_wise(_take(codes, cop_idx), num, "")


def _write(table: pa.Table, path: Path) -> None:
    # header written by hand: Arrow quotes header names even with quoting_style="none"
    with open(path, "wb") as fh:
        fh.write((",".join(table.column_names) + "\n").encode("utf-8"))
        pcsv.write_csv(table, fh, pcsv.WriteOptions(include_header=False, quoting_style="none", batch_size=1 << 16))


def write_all(raw_dir: Path, cat, c, rec, lines, outside) -> dict:
    raw_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    ids = c.cust_id
    # 01 DEMO
    t = pa.table(
        {
            "cust": pa.array(ids),
            "ma_fem_dv": _take(P.GENDERS, c.gender),
            "ages": _take(P.AGE_BANDS, c.age),
            "zon_hlv": _take(P.ZONES, c.zone),
        }
    )
    counts["demo"] = _emit(t, raw_dir, "demo")
    store_codes = np.append(cat.store_code, "")  # index -1 -> ""
    rct_all = rct_strings(rec.aff, rec.counter)
    # 02 PDDE: lines in receipt-number order, products within a receipt by code
    o = np.lexsort((lines.prod, rec.counter[lines.receipt]))
    r = lines.receipt[o]
    t = pa.table(
        {
            "cust": _take(ids, rec.cust[r]),
            "rct_no": rct_all.take(pa.array(r)),
            "chnl_dv": pa.array(np.where(rec.online[r], 2, 1)),
            "cop_c": _take(P.AFFILIATES, rec.aff[r]),
            "br_c": _take(store_codes, _st(rec.store[r], cat)),
            "pd_c": _take(cat.product_code, lines.prod[o]),
            "de_dt": pa.array(DATE_INT[rec.day[r]]),
            "de_hr": pa.array(rec.hour[r].astype(np.int64)),
            "buy_am": pa.array(lines.buy_am[o]),
            "buy_ct": pa.array(lines.buy_ct[o]),
        }
    )
    counts["pdde"] = _emit(t, raw_dir, "pdde")
    # 03 COP_U
    s = np.flatnonzero(rec.aff >= P.N_RETAIL)
    s = s[np.argsort(rec.counter[s])]
    t = pa.table(
        {
            "cust": _take(ids, rec.cust[s]),
            "rct_no": rct_all.take(pa.array(s)),
            "cop_c": _take(P.AFFILIATES, rec.aff[s]),
            "br_c": _take(store_codes, _st(rec.store[s], cat)),
            "chnl_dv": pa.array(np.where(rec.online[s], 2, 1)),
            "de_dt": pa.array(DATE_INT[rec.day[s]]),
            "vst_dt": pa.array(DATE_INT[rec.vst_day[s]]),
            "de_hr": pa.array(rec.hour[s].astype(np.int64)),
            "buy_am": pa.array(rec.amount[s]),
        }
    )
    counts["cop_u"] = _emit(t, raw_dir, "cop_u")
    # 04 PD_CLAC
    t = pa.table(
        {
            "pd_c": pa.array(cat.product_code),
            "pd_nm": pa.array(cat.product_name),
            "clac_hlv_nm": _take(cat.majors, cat.major),
            "clac_mcls_nm": _take(cat.middles, cat.middle),
        }
    )
    counts["pd_clac"] = _emit(t, raw_dir, "pd_clac")
    # 05 BR
    t = pa.table(
        {
            "br_c": pa.array(cat.store_code),
            "cop_c": _take(P.AFFILIATES, cat.store_aff),
            "zon_hlv": _take(P.ZONES, cat.store_zone),
            "zon_mcls": pa.array(cat.store_zone_mcls),
        }
    )
    counts["br"] = _emit(t, raw_dir, "br")
    # 06 LPAY: paid affiliate receipts + outside payments, in receipt-number order
    p = np.flatnonzero(rec.lpay)
    n_out = len(outside["cust"])
    out_code = np.where(outside["online"], 1, 0)
    counter = np.concatenate([rec.counter[p], outside["counter"]])
    o = np.argsort(counter, kind="stable")
    codes = P.AFFILIATES + OUTSIDE_CODES
    cop = np.concatenate([rec.aff[p], len(P.AFFILIATES) + out_code])[o]
    t = pa.table(
        {
            "cust": _take(ids, np.concatenate([rec.cust[p], outside["cust"]])[o]),
            "rct_no": rct_strings(cop, counter[o], codes),
            "cop_c": _take(codes, cop),
            "chnl_dv": pa.array(np.concatenate([np.where(rec.online[p], 2, 1), np.where(outside["online"], 2, 1)])[o]),
            "de_dt": pa.array(DATE_INT[np.concatenate([rec.day[p], outside["day"]])[o]]),
            "de_hr": pa.array(np.concatenate([rec.hour[p], outside["hour"]]).astype(np.int64)[o]),
            "buy_am": pa.array(np.concatenate([rec.amount[p], outside["amount"]])[o]),
        }
    )
    assert n_out == len(outside["counter"])
    counts["lpay"] = _emit(t, raw_dir, "lpay")
    return counts


def _st(store, cat):
    return np.where(store < 0, len(cat.store_code), store)


def _emit(t: pa.Table, raw_dir: Path, key: str) -> int:
    name, cols = FILES[key]
    assert t.column_names == cols, (key, t.column_names)
    _write(t, raw_dir / name)
    return t.num_rows
