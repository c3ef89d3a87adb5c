"""Input preflight (loyalty_analytics.ingest): one test per bad-input case of SPEC §1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from loyalty_analytics import ingest
from loyalty_analytics.contract import CDNOW, LPOINT
from loyalty_analytics.ingest import InputError, encoding, prepare

DEMO, PDDE, COP_U, PD_CLAC, BR, LPAY = (
    LPOINT.table(name).file for name in ("demo", "pdde", "cop_u", "pd_clac", "br", "lpay")
)

VALID = {
    DEMO: (
        "cust,ma_fem_dv,ages,zon_hlv\nM000000001,여성,40대,Z01\nM000000002,남성,20대,Z17\nM000000003,여성,70대,Z05\n"
    ),
    PDDE: (
        "cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am,buy_ct\n"
        "M000000001,E000000001,1,A01,A010001,PD0001,20210105,10,15000,1\n"
        "M000000001,E000000001,1,A01,A010001,PD0002,20210105,10,4500.5,3\n"
        "M000000002,E000000002,2,A06,,PD0001,20211231,23,9900,1\n"
        "M000000003,E000000003,1,A02,A020001,PD0002,20210301,0,1200,2\n"
    ),
    COP_U: (
        "cust,rct_no,cop_c,br_c,chnl_dv,de_dt,vst_dt,de_hr,buy_am\n"
        "M000000001,C000000001,B01,B010001,1,20210210,20210210,14,120000\n"
        "M000000002,C000000002,D01,,2,20210715,20210715,19,23000\n"
    ),
    PD_CLAC: ('pd_c,pd_nm,clac_hlv_nm,clac_mcls_nm\nPD0001,사과,과일,국산과일\nPD0002,"우유, 흰",유제품,우유\n'),
    BR: ("br_c,cop_c,zon_hlv,zon_mcls\nA010001,A01,Z01,Z0101\nA020001,A02,Z05,Z0503\nB010001,B01,Z17,Z1701\n"),
    LPAY: (
        "cust,rct_no,cop_c,chnl_dv,de_dt,de_hr,buy_am\n"
        "M000000001,E000000001,A01,1,20210105,10,19500\n"
        "M000000003,L000000001,L01,2,20210601,12,7000\n"
    ),
}


@pytest.fixture()
def raw(tmp_path: Path) -> Path:
    """A tiny valid six-file dataset (UTF-8, no BOM)."""
    d = tmp_path / "raw"
    d.mkdir()
    for name, text in VALID.items():
        (d / name).write_bytes(text.encode("utf-8"))
    return d


@pytest.fixture()
def out(tmp_path: Path) -> Path:
    return tmp_path / "prepared"


def run(raw: Path, out: Path) -> dict:
    return prepare("lpoint", raw, out, log=None)


def set_line(raw: Path, name: str, line_no: int, new_line: str) -> None:
    lines = (raw / name).read_text(encoding="utf-8").splitlines(keepends=True)
    lines[line_no - 1] = new_line + "\n"
    (raw / name).write_text("".join(lines), encoding="utf-8")


# --------------------------------------------------------------------------- happy path


def test_valid_dataset_passes_and_writes_report(raw, out):
    report = run(raw, out)
    rows = {f["file"]: f["rows"] for f in report["files"]}
    assert rows == {DEMO: 3, PDDE: 4, COP_U: 2, PD_CLAC: 2, BR: 3, LPAY: 2}
    on_disk = json.loads((out / ingest.REPORT_NAME).read_text(encoding="utf-8"))
    assert [f["file"] for f in on_disk["files"]] == list(LPOINT.files)
    for f in on_disk["files"]:
        assert {"rows", "encoding", "bytes", "seconds"} <= set(f)
        assert f["bytes"] == (raw / f["file"]).stat().st_size


def test_clean_file_is_linked_not_copied(raw, out):
    report = run(raw, out)
    for name in LPOINT.files:
        prepared = out / name
        assert prepared.is_symlink() or prepared.stat().st_ino == (raw / name).stat().st_ino
        assert os.path.samefile(prepared, raw / name)
    assert all(f["action"].startswith("linked") for f in report["files"])


def test_bad_data_rows_pass_through_and_are_counted(raw, out):
    """Duplicates, cancellations, out-of-period dates and unknown codes are not stopped
    nor dropped here: dbt staging quarantines them."""
    with open(raw / PDDE, "a", encoding="utf-8") as fh:
        fh.write("M000000001,E000000001,1,A01,A010001,PD0001,20210105,10,15000,1\n")  # duplicate
        fh.write("M000000002,E000000009,1,A01,A010001,PD0001,20210106,11,-15000,1\n")  # cancel
        fh.write("M000000002,E000000010,1,A01,A010001,PD0001,20220102,11,0,1\n")  # out of period
        fh.write("M000000002,E000000011,1,Z99,A010001,PD9999,20210107,11,100,1\n")  # unknown codes
    report = run(raw, out)
    pdde = next(f for f in report["files"] if f["file"] == PDDE)
    assert pdde["rows"] == 8
    assert pdde["data_quality"] == {
        "non_positive_amount": 2,
        "date_outside_period": 1,
        "unknown_cop_c": 1,
        "duplicate_lines": 1,
        "unknown_pd_c": 1,
    }
    assert (out / PDDE).read_text(encoding="utf-8").count("\n") == 9


# --------------------------------------------------------------------------- stops


def test_missing_file_stops(raw, out):
    (raw / COP_U).unlink()
    with pytest.raises(InputError, match=COP_U) as exc:
        run(raw, out)
    assert "missing" in str(exc.value)
    assert not (out / ingest.REPORT_NAME).exists()


def test_missing_column_stops(raw, out):
    set_line(raw, PDDE, 1, "cust,rct_no,chnl_dv,cop_c,br_c,pd_c,de_dt,de_hr,buy_am")
    with pytest.raises(InputError) as exc:
        run(raw, out)
    msg = str(exc.value)
    assert PDDE in msg and "line 1" in msg
    assert "missing column(s) buy_ct" in msg


def test_extra_column_stops(raw, out):
    set_line(raw, LPAY, 1, "cust,rct_no,cop_c,chnl_dv,de_dt,de_hr,buy_am,memo")
    with pytest.raises(InputError) as exc:
        run(raw, out)
    msg = str(exc.value)
    assert LPAY in msg and "line 1" in msg
    assert "extra column(s) 'memo'" in msg


def test_wrong_column_order_stops(raw, out):
    set_line(raw, BR, 1, "cop_c,br_c,zon_hlv,zon_mcls")
    with pytest.raises(InputError) as exc:
        run(raw, out)
    msg = str(exc.value)
    assert BR in msg and "out of order" in msg and "'cop_c'" in msg and "'br_c'" in msg


@pytest.mark.parametrize(
    ("line", "column", "value", "kind"),
    [
        ("M000000001,E000000001,1,A01,A010001,PD0001,20210105,10,abc,1", "buy_am", "'abc'", "number"),
        ("M000000001,E000000001,1,A01,A010001,PD0001,2021-13-45,10,100,1", "de_dt", "'2021-13-45'", "YYYYMMDD"),
        ("M000000001,E000000001,1,A01,A010001,PD0001,20211345,10,100,1", "de_dt", "'20211345'", "YYYYMMDD"),
        ("M000000001,E000000001,1,A01,A010001,PD0001,20210105,25,100,1", "de_hr", "'25'", "hour"),
        ("M000000001,E000000001,x,A01,A010001,PD0001,20210105,10,100,1", "chnl_dv", "'x'", "integer"),
        ("M000000001,E000000001,1,A01,A010001,PD0001,20210105,10,100,", "buy_ct", "empty", "integer"),
    ],
)
def test_bad_type_stops_with_file_line_column(raw, out, line, column, value, kind):
    set_line(raw, PDDE, 4, line)
    with pytest.raises(InputError) as exc:
        run(raw, out)
    msg = str(exc.value)
    assert PDDE in msg
    assert "line 4," in msg
    assert f"column {column}" in msg
    assert value in msg and kind in msg
    assert not (out / PDDE).exists()  # nothing left for dbt to read


def test_bad_type_reports_first_line_and_count(raw, out):
    with open(raw / COP_U, "a", encoding="utf-8") as fh:
        fh.write("M000000003,C000000003,E01,,2,20210801,20210801,24,100\n")  # line 4: de_hr
        fh.write("M000000003,C000000004,E01,,2,20210801,20210801,9,1e3\n")  # line 5: buy_am
        fh.write("M000000003,C000000005,E01,,2,20210801,2021-08-01,99,x\n")  # line 6: 3 bad
    with pytest.raises(InputError) as exc:
        run(raw, out)
    msg = str(exc.value)
    assert f"{COP_U} line 4, column de_hr: value '24'" in msg
    assert "5 bad value(s) on 3 line(s)" in msg
    assert "vst_dt: 1, de_hr: 2, buy_am: 2" in msg


def test_ragged_row_stops(raw, out):
    with open(raw / BR, "a", encoding="utf-8") as fh:
        fh.write("C010001,C01,Z02,Z0201,extra\n")
    with pytest.raises(InputError) as exc:
        run(raw, out)
    msg = str(exc.value)
    assert BR in msg and "line 5" in msg and "expected 4 fields" in msg and "found 5" in msg


def test_empty_file_zero_bytes_stops(raw, out):
    (raw / PD_CLAC).write_bytes(b"")
    with pytest.raises(InputError) as exc:
        run(raw, out)
    msg = str(exc.value)
    assert PD_CLAC in msg and "0 bytes" in msg


def test_header_only_file_stops(raw, out):
    (raw / LPAY).write_text("cust,rct_no,cop_c,chnl_dv,de_dt,de_hr,buy_am\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        run(raw, out)
    msg = str(exc.value)
    assert LPAY in msg and "header only" in msg


# --------------------------------------------------------------------------- type ranges


@pytest.mark.parametrize(
    ("line", "column", "value"),
    [
        ("M000000001,E000000001,1,A01,A010001,PD0001,20210105,10,100,3000000000", "buy_ct", "'3000000000'"),
        ("M000000001,E000000001,1,A01,A010001,PD0001,20210105,10,100,-2147483649", "buy_ct", "'-2147483649'"),
        ("M000000001,E000000001,99999999999,A01,A010001,PD0001,20210105,10,100,1", "chnl_dv", "'99999999999'"),
    ],
    ids=["buy_ct_3e9", "buy_ct_below_min", "chnl_dv_11_digits"],
)
def test_integer_beyond_its_sql_type_stops_with_file_line_column(raw, out, line, column, value):
    """DuckDB would otherwise fail late in dbt with a conversion error and no file line."""
    set_line(raw, PDDE, 4, line)
    with pytest.raises(InputError) as exc:
        run(raw, out)
    msg = str(exc.value)
    assert f"{PDDE} line 4, column {column}: value {value}" in msg
    assert "INTEGER" in msg and "2,147,483,647" in msg


def test_integer_range_edges_pass(raw, out):
    set_line(raw, PDDE, 4, "M000000003,E000000003,1,A02,A020001,PD0002,20210301,0,1200,2147483647")
    assert next(f for f in run(raw, out)["files"] if f["file"] == PDDE)["rows"] == 4


def test_huge_but_finite_amount_passes_to_quarantine(raw, out):
    """A 40-digit amount is a finite DOUBLE: ingest passes it, dbt quarantines it as
    implausible_amount (tests/python/test_bad_input_quarantine.py)."""
    set_line(raw, PDDE, 4, "M000000003,E000000003,1,A02,A020001,PD0002,20210301,0," + "9" * 40 + ",2")
    assert next(f for f in run(raw, out)["files"] if f["file"] == PDDE)["rows"] == 4


def test_amount_beyond_double_stops(raw, out):
    set_line(raw, LPAY, 3, "M000000003,L000000001,L01,2,20210601,12," + "9" * 400)
    with pytest.raises(InputError) as exc:
        run(raw, out)
    msg = str(exc.value)
    assert f"{LPAY} line 3, column buy_am" in msg and "finite number" in msg and "DOUBLE" in msg


# --------------------------------------------------------------------------- codes and keys


@pytest.mark.parametrize(
    ("name", "line_no", "line", "message"),
    [
        (DEMO, 3, "M000000002 ,남성,20대,Z17", f"{DEMO} line 3, column cust: value 'M000000002 ' has trailing spaces"),
        (DEMO, 4, " M000000003,여성,70대,Z05", f"{DEMO} line 4, column cust: value ' M000000003' has leading spaces"),
        (
            PD_CLAC,
            2,
            " PD0001 ,사과,과일,국산과일",
            f"{PD_CLAC} line 2, column pd_c: value ' PD0001 ' has leading and trailing spaces",
        ),
        (
            PDDE,
            5,
            "M000000003,E000000003,1,A02,A020001,PD0002 ,20210301,0,1200,2",
            f"{PDDE} line 5, column pd_c: value 'PD0002 ' has trailing spaces",
        ),
        (
            LPAY,
            2,
            "M000000001 ,E000000001,A01,1,20210105,10,19500",
            f"{LPAY} line 2, column cust: value 'M000000001 ' has trailing spaces",
        ),
        (
            COP_U,
            2,
            "M000000001,C000000001,B01\t,B010001,1,20210210,20210210,14,120000",
            f"{COP_U} line 2, column cop_c: value 'B01\\t' has trailing spaces",
        ),
        (DEMO, 2, ",여성,40대,Z01", f"{DEMO} line 2, column cust: value empty is not allowed"),
    ],
    ids=["demo_trailing", "demo_leading", "pd_clac_both", "pdde_pd_c", "lpay_cust", "cop_u_tab", "demo_empty_key"],
)
def test_padded_or_empty_code_stops(raw, out, name, line_no, line, message):
    """A padded code would match nothing downstream (unknown customer / product): stop
    rather than trim silently."""
    set_line(raw, name, line_no, line)
    with pytest.raises(InputError) as exc:
        run(raw, out)
    assert message in str(exc.value)
    assert not (out / name).exists()


@pytest.mark.parametrize(
    ("name", "extra_line", "message"),
    [
        (PD_CLAC, "PD0001,배,과일,국산과일", f"{PD_CLAC} line 4: product code PD0001 is already defined on line 2"),
        (DEMO, "M000000002,여성,30대,Z02", f"{DEMO} line 5: customer M000000002 is already defined on line 3"),
        (BR, "A020001,A02,Z06,Z0601", f"{BR} line 5: store code A020001 is already defined on line 3"),
        (BR, "A010001,A01,Z01,Z0101", f"{BR} line 5: store code A010001 is already defined on line 2 (identical line)"),
    ],
    ids=["pd_clac", "demo", "br", "br_identical_line"],
)
def test_duplicate_key_in_dimension_file_stops(raw, out, name, extra_line, message):
    with open(raw / name, "a", encoding="utf-8") as fh:
        fh.write(extra_line + "\n")
    with pytest.raises(InputError) as exc:
        run(raw, out)
    assert message in str(exc.value)
    assert not (out / name).exists()


def test_duplicate_keys_report_the_first_and_the_count(raw, out):
    with open(raw / PD_CLAC, "a", encoding="utf-8") as fh:
        fh.write("PD0003,배,과일,국산과일\nPD0002,두유,유제품,두유\nPD0001,배,과일,국산과일\nPD0002,x,y,z\n")
    with pytest.raises(InputError) as exc:
        run(raw, out)
    msg = str(exc.value)
    assert f"{PD_CLAC} line 5: product code PD0002 is already defined on line 3" in msg
    assert "3 duplicated line(s) for 2 product code(s)" in msg


# --------------------------------------------------------------------------- encodings


def test_cp949_file_is_transcoded_and_korean_round_trips(raw, out):
    for name in (DEMO, PD_CLAC):
        data = VALID[name].encode("cp949")
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")  # the input really is not UTF-8
        (raw / name).write_bytes(data)
    report = run(raw, out)
    by_file = {f["file"]: f for f in report["files"]}
    for name in (DEMO, PD_CLAC):
        prepared = out / name
        assert not prepared.is_symlink()
        assert prepared.read_bytes().decode("utf-8") == VALID[name]  # exact round trip
        assert by_file[name]["encoding"] == "cp949"
        assert by_file[name]["action"] == "transcoded from CP949"
    assert by_file[PD_CLAC]["rows"] == 2


def test_cp949_transcoding_streams_across_chunks(raw, out, monkeypatch):
    monkeypatch.setattr(encoding, "CHUNK_BYTES", 7)  # split multi-byte characters
    body = "".join(f"M{i:09d},여성,40대,Z01\n" for i in range(200))
    text = "cust,ma_fem_dv,ages,zon_hlv\n" + body
    (raw / DEMO).write_bytes(text.encode("cp949"))
    run(raw, out)
    assert (out / DEMO).read_text(encoding="utf-8") == text


def test_utf8_bom_is_accepted_and_stripped(raw, out):
    (raw / PD_CLAC).write_bytes(b"\xef\xbb\xbf" + VALID[PD_CLAC].encode("utf-8"))
    report = run(raw, out)
    prepared = out / PD_CLAC
    assert not prepared.is_symlink()
    assert prepared.read_bytes() == VALID[PD_CLAC].encode("utf-8")
    entry = next(f for f in report["files"] if f["file"] == PD_CLAC)
    assert entry["encoding"] == "utf-8-sig" and entry["rows"] == 2


def test_undecodable_bytes_stop(raw, out):
    data = VALID[DEMO].encode("utf-8").replace("40대".encode(), b"40\xff\xfe")
    (raw / DEMO).write_bytes(data)
    offset = data.index(b"\xff")
    with pytest.raises(InputError) as exc:
        run(raw, out)
    msg = str(exc.value)
    assert DEMO in msg and "line 2" in msg
    assert f"byte offset {offset}" in msg
    assert "not valid UTF-8" in msg and "CP949" in msg
    assert not (out / DEMO).exists()


# --------------------------------------------------------------------------- CLI


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loyalty_analytics.ingest", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_exit_code_2_with_readable_message(raw, out):
    set_line(raw, PDDE, 3, "M000000001,E000000001,1,A01,A010001,PD0002,20210105,10,abc,3")
    res = _cli("--raw-dir", str(raw), "--out", str(out))
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert f"{PDDE} line 3, column buy_am: value 'abc'" in res.stderr


def test_cli_success_prints_one_line_per_file(raw, out):
    res = _cli("--raw-dir", str(raw), "--out", str(out))
    assert res.returncode == 0, res.stderr
    for name in LPOINT.files:
        assert any(line.startswith(f"{name}: ") and "rows" in line and " s" in line for line in res.stdout.splitlines())
    assert (out / ingest.REPORT_NAME).is_file()


# --------------------------------------------------------------------------- CDNOW


@pytest.mark.parametrize(
    ("dataset", "customers", "transactions"),
    [("cdnow", 23_570, 69_659), ("cdnow_sample", 2_357, 6_919)],
)
def test_cdnow_conversion_counts(tmp_path, dataset, customers, transactions):
    report = prepare(dataset, tmp_path / "no_raw", tmp_path / "out", log=None)
    path = tmp_path / "out" / CDNOW.table("transactions").file
    df = pd.read_csv(path, dtype={"customer_id": str})
    assert list(df.columns) == ["customer_id", "purchase_date", "quantity", "amount"]
    assert len(df) == transactions
    assert df["customer_id"].nunique() == customers
    assert df["purchase_date"].str.fullmatch(r"199[78]-\d\d-\d\d").all()
    assert df["purchase_date"].min() == "1997-01-01" and df["purchase_date"].max() <= "1998-06-30"
    assert report["files"][0]["rows"] == transactions
    assert report["files"][0]["customers"] == customers
    first = df.iloc[0]
    if dataset == "cdnow":  # "00001 19970101  1   11.77"
        assert (first.customer_id, first.purchase_date, first.quantity, first.amount) == (
            "00001",
            "1997-01-01",
            1,
            11.77,
        )
    else:  # "00004 0001 19970101  2   29.33": customer_id is the master id
        assert (first.customer_id, first.purchase_date, first.quantity, first.amount) == (
            "00004",
            "1997-01-01",
            2,
            29.33,
        )


def test_cdnow_wrong_counts_fail_loudly(tmp_path):
    src = ingest.cdnow_source("cdnow_sample")
    raw = tmp_path / "raw"
    raw.mkdir()
    lines = src.read_bytes().splitlines(keepends=True)
    (raw / "CDNOW_sample.txt").write_bytes(b"".join(lines[:-1]))  # one transaction short
    with pytest.raises(InputError, match="expected 2,357 customers / 6,919 transactions"):
        prepare("cdnow_sample", raw, tmp_path / "out", log=None)
