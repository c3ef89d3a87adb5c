"""Input preflight ("ingest"): checks the raw input files before dbt reads them.

    python -m loyalty_analytics.ingest [--dataset lpoint|cdnow|cdnow_sample]
                                       [--raw-dir DIR] [--out DIR]

For ``lpoint`` (the six LPOINT_BIG_COMP files) every file is checked for

* presence, emptiness (0 bytes / header only),
* encoding: UTF-8 (a BOM is stripped) or CP949 (transcoded to UTF-8); anything else stops,
* the exact header (names and order),
* CSV structure (field count per row) and the type of every typed column, set-based in
  DuckDB (``all_varchar`` read + regex / ``try_cast`` to the column's SQL type /
  ``try_strptime``), with 1-based line numbers (header = line 1) taken from the file order;
  each column's SQL type is declared once here (``SQL_TYPES``) and is what dbt reads,
* codes that join files (cust, rct_no, cop_c, br_c, pd_c) without leading/trailing spaces,
* the key of each dimension file (DEMO cust, PD_CLAC pd_c, BR br_c) filled in and unique.

Problems that make the data unreadable or ambiguous raise :class:`InputError` naming file,
line and column; the CLI prints the message and exits with code 2. Rows that parse but carry
bad *data* (duplicates, unknown codes, non-positive or implausible amounts, dates outside the
period, orphan L.Pay payments) pass to dbt, where staging quarantines them (some are counted
here too). See ``docs/bad_input.md``.

The checked files land in the output directory under their original names: a symlink to
the raw file when it is already clean UTF-8 without BOM, otherwise a UTF-8 copy. A
``_ingest_report.json`` records files, rows, encoding, bytes and seconds.

For ``cdnow`` / ``cdnow_sample`` the CDNOW logs shipped inside the ``lifetimes`` package are
converted to ``cdnow_transactions.csv`` (customer_id,purchase_date,quantity,amount) and
their published customer / transaction counts are asserted.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

__all__ = [
    "CDNOW_FILES",
    "LPOINT_FILES",
    "REPORT_NAME",
    "SQL_TYPES",
    "InputError",
    "main",
    "prepare",
    "sql_columns",
]

REPORT_NAME = "_ingest_report.json"
CHUNK_BYTES = 16 * 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"

# Observation period of the competition data; only used for the informational
# data-quality counts in the report (dbt's staging decides what is quarantined).
PERIOD_START = "20210101"
PERIOD_END = "20211231"

# Column kinds. Each kind is read by the dbt sources as one SQL type (SQL_TYPES; a test
# checks models/staging/lpoint/_lpoint__sources.yml against it) and checked here so that
# the cast in dbt cannot fail:
#   text    anything, may be empty                                   -> VARCHAR
#   code    a code that joins files (cust, rct_no, cop_c, br_c, pd_c): may be empty, no
#           leading/trailing spaces (a padded code would match nothing downstream) -> VARCHAR
#   key     the code that identifies a row of a dimension file (DEMO cust, PD_CLAC pd_c,
#           BR br_c): a code that is filled in and unique in its file  -> VARCHAR
#   int     integer within INTEGER's range                            -> INTEGER
#   date    YYYYMMDD (parsed in staging)                              -> VARCHAR
#   hour    0..23                                                     -> INTEGER
#   numeric integer or plain decimal that is a finite DOUBLE          -> DOUBLE
# Amounts far beyond any real purchase are still finite DOUBLEs: dbt quarantines them
# (vars max_line_amount / max_line_quantity), they do not stop here.
TEXT, CODE, KEY, INT, DATE, HOUR, NUMERIC = "text", "code", "key", "int", "date", "hour", "numeric"

SQL_TYPES = {
    TEXT: "VARCHAR", CODE: "VARCHAR", KEY: "VARCHAR", DATE: "VARCHAR",
    INT: "INTEGER", HOUR: "INTEGER", NUMERIC: "DOUBLE",
}
INTEGER_MIN, INTEGER_MAX = -2_147_483_648, 2_147_483_647

LPOINT_FILES: dict[str, list[tuple[str, str]]] = {
    "LPOINT_BIG_COMP_01_DEMO.csv": [
        ("cust", KEY), ("ma_fem_dv", TEXT), ("ages", TEXT), ("zon_hlv", TEXT),
    ],
    "LPOINT_BIG_COMP_02_PDDE.csv": [
        ("cust", CODE), ("rct_no", CODE), ("chnl_dv", INT), ("cop_c", CODE), ("br_c", CODE),
        ("pd_c", CODE), ("de_dt", DATE), ("de_hr", HOUR), ("buy_am", NUMERIC), ("buy_ct", INT),
    ],
    "LPOINT_BIG_COMP_03_COP_U.csv": [
        ("cust", CODE), ("rct_no", CODE), ("cop_c", CODE), ("br_c", CODE), ("chnl_dv", INT),
        ("de_dt", DATE), ("vst_dt", DATE), ("de_hr", HOUR), ("buy_am", NUMERIC),
    ],
    "LPOINT_BIG_COMP_04_PD_CLAC.csv": [
        ("pd_c", KEY), ("pd_nm", TEXT), ("clac_hlv_nm", TEXT), ("clac_mcls_nm", TEXT),
    ],
    "LPOINT_BIG_COMP_05_BR.csv": [
        ("br_c", KEY), ("cop_c", CODE), ("zon_hlv", TEXT), ("zon_mcls", TEXT),
    ],
    "LPOINT_BIG_COMP_06_LPAY.csv": [
        ("cust", CODE), ("rct_no", CODE), ("cop_c", CODE), ("chnl_dv", INT), ("de_dt", DATE),
        ("de_hr", HOUR), ("buy_am", NUMERIC),
    ],
}

# What a key names, for duplicate-key messages.
KEY_NOUNS = {"cust": "customer", "pd_c": "product code", "br_c": "store code"}

KNOWN_COP_C = ("A01", "A02", "A03", "A04", "A05", "A06", "B01", "C01", "C02",
               "D01", "D02", "E01", "L00", "L01")

# dataset -> (file name inside lifetimes/datasets, expected customers, expected transactions)
CDNOW_FILES: dict[str, tuple[str, int, int]] = {
    "cdnow": ("CDNOW_master.txt", 23_570, 69_659),
    "cdnow_sample": ("CDNOW_sample.txt", 2_357, 6_919),
}
CDNOW_OUT = "cdnow_transactions.csv"

# CDNOW's text checks (pandas); values fit int64 / float64.
_INT_RE = r"[+-]?[0-9]{1,18}"
_NUMERIC_RE = r"[+-]?([0-9]{1,30}(\.[0-9]*)?|\.[0-9]+)"
# L.Point's text checks (DuckDB): the shape only; the range comes from a try_cast to the SQL type.
_INTEGER_TEXT = r"[+-]?[0-9]+"
_DECIMAL_TEXT = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
# A padded code starts or ends with a space or a tab (LIKE: ~1.7x faster than a regex here).
_PADDING_PATTERNS = (" %", "% ", "\t%", "%\t")

_KIND_TEXT = {
    INT: f"an integer in INTEGER's range {INTEGER_MIN:,}..{INTEGER_MAX:,}",
    DATE: "a YYYYMMDD date",
    HOUR: "an hour 0..23",
    NUMERIC: "a finite number (integer or plain decimal that fits a DOUBLE)",
}


class InputError(Exception):
    """An input file cannot be used; the message names file, line and column."""


@dataclass
class _Scan:
    encoding: str          # "utf-8", "utf-8-sig" or "cp949"
    action: str            # what was written to the output directory
    bytes: int             # size of the raw file
    physical_lines: int    # lines in the file (header included)


# --------------------------------------------------------------------------- helpers

def _sql_str(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _count_lines(total_newlines: int, last_byte: bytes) -> int:
    return total_newlines + (1 if last_byte not in (b"", b"\n") else 0)


def _line_pieces(path: Path, skip: int = 0):
    """Yield (offset, bytes) pieces of the file that end at a newline (except the last).

    Neither UTF-8 nor CP949 uses 0x0A inside a multi-byte character, so every piece can
    be decoded on its own and error offsets are exact."""
    with open(path, "rb") as fh:
        fh.seek(skip)
        offset = skip
        carry = b""
        while True:
            chunk = fh.read(CHUNK_BYTES)
            if not chunk:
                if carry:
                    yield offset, carry
                return
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            if cut == 0:
                carry = data
                continue
            yield offset, data[:cut]
            offset += cut
            carry = data[cut:]


def _locate(path: Path, offset: int) -> tuple[int, int]:
    """1-based (line, byte column) of a byte offset."""
    with open(path, "rb") as fh:
        head = fh.read(offset)
    line = head.count(b"\n") + 1
    return line, offset - (head.rfind(b"\n") + 1) + 1


def _first_bad_offset(path: Path, encoding: str, skip: int) -> int | None:
    for offset, piece in _line_pieces(path, skip):
        try:
            piece.decode(encoding)
        except UnicodeDecodeError as exc:
            return offset + exc.start
    return None


def _atomic_target(out: Path) -> Path:
    return out.with_name(f".{out.name}.tmp-{os.getpid()}")


def _link(src: Path, out: Path) -> str:
    """Symlink out -> src (absolute); fall back to a hardlink, then to a copy."""
    tmp = _atomic_target(out)
    tmp.unlink(missing_ok=True)
    try:
        os.symlink(src.resolve(), tmp)
        how = "linked (symlink)"
    except OSError:
        try:
            os.link(src, tmp)
            how = "linked (hardlink)"
        except OSError:
            import shutil
            shutil.copyfile(src, tmp)
            how = "copied"
    os.replace(tmp, out)
    return how


# --------------------------------------------------------------------------- checks

def _check_header(name: str, path: Path, expected: list[str]) -> None:
    with open(path, "rb") as fh:
        first = fh.readline(1 << 20)
    if first.startswith(UTF8_BOM):
        first = first[len(UTF8_BOM):]
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        text = first.decode("cp949", errors="replace")
    row = next(csv.reader(io.StringIO(text.rstrip("\r\n"))), [])
    got = list(row)
    if got == expected:
        return
    missing = [c for c in expected if c not in got]
    extra = [c for c in got if c not in expected]
    parts = []
    if missing:
        parts.append("missing column(s) " + ", ".join(missing))
    if extra:
        parts.append("unknown/extra column(s) " + ", ".join(repr(c) for c in extra))
    if not parts:
        if len(got) != len(set(got)):
            dup = sorted({c for c in got if got.count(c) > 1})
            parts.append("duplicated column(s) " + ", ".join(dup))
        else:
            pos = next(i for i, (g, e) in enumerate(zip(got, expected)) if g != e)
            parts.append(
                f"columns out of order: column {pos + 1} is {got[pos]!r}, expected {expected[pos]!r}"
            )
    raise InputError(
        f"{name} line 1 (header): {'; '.join(parts)}. "
        f"Expected header: {','.join(expected)}; found: {','.join(got)}"
    )


def _scan_and_write(name: str, path: Path, out: Path) -> _Scan:
    """Validate the encoding, then link or write a clean UTF-8 copy to ``out``."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        has_bom = fh.read(3) == UTF8_BOM
    skip = 3 if has_bom else 0

    newlines = 0
    last = b""
    utf8_bad: int | None = None
    for offset, piece in _line_pieces(path, skip):
        if not piece.isascii():
            try:
                piece.decode("utf-8")
            except UnicodeDecodeError as exc:
                utf8_bad = offset + exc.start
                break
        newlines += piece.count(b"\n")
        last = piece[-1:]

    if utf8_bad is None:
        lines = _count_lines(newlines, last)
        if not has_bom:
            return _Scan("utf-8", _link(path, out), size, lines)
        tmp = _atomic_target(out)
        tmp.unlink(missing_ok=True)
        with open(tmp, "wb") as dst:
            for _, piece in _line_pieces(path, skip):
                dst.write(piece)
        os.replace(tmp, out)
        return _Scan("utf-8-sig", "copied, UTF-8 BOM stripped", size, lines)

    # Not UTF-8: try CP949 (Korean Windows), transcoding piece by piece.
    tmp = _atomic_target(out)
    tmp.unlink(missing_ok=True)
    newlines = 0
    last = b""
    try:
        with open(tmp, "wb") as dst:
            for offset, piece in _line_pieces(path, 0):
                try:
                    text = piece.decode("cp949")
                except UnicodeDecodeError as exc:
                    cp_bad = offset + exc.start
                    u_line, u_col = _locate(path, utf8_bad)
                    c_line, c_col = _locate(path, cp_bad)
                    raise InputError(
                        f"{name} line {u_line}: not valid UTF-8 (byte offset {utf8_bad}, "
                        f"byte {u_col} of the line) and not valid CP949 either (byte offset "
                        f"{cp_bad}, line {c_line}, byte {c_col} of the line: "
                        f"{piece[exc.start:exc.start + 4]!r}). Re-save the file as UTF-8."
                    ) from None
                newlines += piece.count(b"\n")
                last = piece[-1:]
                dst.write(text.encode("utf-8"))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)
    return _Scan("cp949", "transcoded from CP949", size, _count_lines(newlines, last))


def _read_csv_sql(path: Path, columns: list[tuple[str, str]]) -> str:
    cols = ", ".join(f"{_sql_str(c)}: 'VARCHAR'" for c, _ in columns)
    return (
        f"read_csv({_sql_str(path)}, header=true, auto_detect=false, columns={{{cols}}}, "
        "delim=',', quote='\"', escape='\"', strict_mode=true, null_padding=false)"
    )


def _bad_expr(col: str, kind: str) -> str:
    c = f'"{col}"'
    not_padded = "NOT (" + " OR ".join(f"{c} LIKE '{p}'" for p in _PADDING_PATTERNS) + ")"
    if kind == CODE:
        ok = f"({c} IS NULL OR {not_padded})"
    elif kind == KEY:
        ok = f"({c} IS NOT NULL AND {not_padded})"
    elif kind == INT:
        # try_cast alone would accept ' 12' and round '1.5'; the regex alone knows no range.
        ok = f"(regexp_full_match({c}, '{_INTEGER_TEXT}') AND try_cast({c} AS INTEGER) IS NOT NULL)"
    elif kind == NUMERIC:
        ok = f"(regexp_full_match({c}, '{_DECIMAL_TEXT}') AND isfinite(try_cast({c} AS DOUBLE)))"
    elif kind == DATE:
        ok = f"(regexp_full_match({c}, '[0-9]{{8}}') AND try_strptime({c}, '%Y%m%d') IS NOT NULL)"
    elif kind == HOUR:
        ok = f"(regexp_full_match({c}, '[0-9]{{1,2}}') AND try_cast({c} AS INTEGER) BETWEEN 0 AND 23)"
    else:
        raise ValueError(kind)
    return f"NOT coalesce({ok}, false)"


def _problem(kind: str, value: str | None) -> str:
    """Why a flagged value is bad, for the message ("value 'x' <problem>")."""
    if kind in (CODE, KEY) and value is not None:
        leading, trailing = value[:1].isspace(), value[-1:].isspace()
        where = "leading and trailing" if leading and trailing else "leading" if leading else "trailing"
        return f"has {where} spaces (codes must match exactly across files; remove the padding)"
    if kind == KEY:
        return "is not allowed: this column is the file's key and must be filled in"
    return f"is not {_KIND_TEXT[kind]}"


def sql_columns(name: str) -> list[tuple[str, str]]:
    """(column, SQL type) of an L.Point file as the dbt sources must read it."""
    return [(column, SQL_TYPES[kind]) for column, kind in LPOINT_FILES[name]]


def _csv_error(name: str, exc: duckdb.Error, columns: list[tuple[str, str]], line_note: str) -> InputError:
    msg = str(exc)
    m = re.search(r"CSV Error on Line: (\d+)", msg)
    line = m.group(1) if m else "?"
    orig = re.search(r"Original Line: ?(.*)", msg)
    cnt = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", msg)
    if cnt:
        what = (f"column count: expected {cnt.group(1)} fields "
                f"({','.join(c for c, _ in columns)}), found {cnt.group(2)}")
    else:
        head = msg.split("Possible fixes")[0].strip().splitlines()
        detail = head[-1].strip() if len(head) > 2 else "see DuckDB error"
        what = f"malformed CSV ({detail.rstrip('.')})"
    text = f"{name} line {line}{line_note}: {what}"
    if orig:
        text += f"; line content: {orig.group(1)[:200]!r}"
    return InputError(text)


def _record_note(rows: int, physical_lines: int) -> str:
    """Line numbers are CSV records; say so when they differ from the file's physical lines."""
    if rows + 1 == physical_lines:
        return ""
    return (f" (CSV record number; the file has {physical_lines} physical lines for "
            f"{rows} records + header: quoted line breaks or blank lines)")


def _check_types(con: duckdb.DuckDBPyConnection, name: str, path: Path,
                 columns: list[tuple[str, str]], physical_lines: int) -> dict:
    """One set-based pass: row count, per-column bad counts / first bad line / value, and
    the informational data-quality counts."""
    typed = [(c, k) for c, k in columns if k != TEXT]
    names = [c for c, _ in columns]
    select_flags = ", ".join(f"{_bad_expr(c, k)} AS \"__bad_{c}\"" for c, k in typed)
    aggs = ["count(*) AS __rows"]
    for c, _ in typed:
        b = f'"__bad_{c}"'
        aggs += [
            f"count(*) FILTER (WHERE {b})",
            f"min(__line) FILTER (WHERE {b})",
            f"arg_min(\"{c}\", __line) FILTER (WHERE {b})",
        ]
    if typed:
        any_bad = " OR ".join(f'"__bad_{c}"' for c, _ in typed)
        aggs.append(f"count(*) FILTER (WHERE {any_bad})")
    dq_names = []
    if "buy_am" in names:
        aggs.append("count(*) FILTER (WHERE try_cast(buy_am AS DOUBLE) <= 0)")
        dq_names.append("non_positive_amount")
    if "de_dt" in names:
        aggs.append(
            f"count(*) FILTER (WHERE regexp_full_match(de_dt, '[0-9]{{8}}') "
            f"AND (de_dt < '{PERIOD_START}' OR de_dt > '{PERIOD_END}'))"
        )
        dq_names.append("date_outside_period")
    if "cop_c" in names and name != "LPOINT_BIG_COMP_05_BR.csv":
        known = ", ".join(_sql_str(c) for c in KNOWN_COP_C)
        aggs.append(f"count(*) FILTER (WHERE cop_c IS NULL OR cop_c NOT IN ({known}))")
        dq_names.append("unknown_cop_c")

    # Pass 1 (parallel, no line numbers): counts only. Clean files stop here.
    src = _read_csv_sql(path, columns)
    flags = f", {select_flags}" if select_flags else ""
    base = f"SELECT *{flags} FROM {src}"
    count_aggs = [a for a in aggs if "__line" not in a]
    try:
        counts = con.execute(f"SELECT {', '.join(count_aggs)} FROM ({base})").fetchone()
    except duckdb.Error as exc:
        raise _csv_error(name, exc, columns, "") from None
    n_bad = sum(counts[1:1 + len(typed)]) if typed else 0
    if n_bad == 0:
        row = [counts[0]]
        for i in range(len(typed)):
            row += [0, None, None]
        row += list(counts[1 + len(typed):])
    else:
        # Pass 2 (only when something is wrong): line numbers from the file order.
        # row_number() OVER () runs as a streaming window over the ordered CSV scan.
        sql = (
            f"WITH t AS (SELECT row_number() OVER () + 1 AS __line, * FROM {src}), "
            f"f AS (SELECT *{flags} FROM t) "
            f"SELECT {', '.join(aggs)} FROM f"
        )
        row = con.execute(sql).fetchone()

    rows = row[0]
    if rows == 0:
        raise InputError(f"{name} line 1: file has a header but no data rows (header only)")
    line_note = _record_note(rows, physical_lines)
    pos = 1
    bad = []
    for c, k in typed:
        n, first_line, value = row[pos], row[pos + 1], row[pos + 2]
        pos += 3
        if n:
            bad.append((first_line, c, k, value, n))
    if bad:
        total_lines = row[pos]
        bad.sort(key=lambda b: (b[0], names.index(b[1])))
        first_line, c, k, value, _ = bad[0]
        shown = "empty" if value is None else repr(value)
        per_col = ", ".join(f"{bc}: {bn}" for _, bc, _, _, bn in sorted(bad, key=lambda b: names.index(b[1])))
        total_values = sum(b[4] for b in bad)
        raise InputError(
            f"{name} line {first_line}{line_note}, column {c}: value {shown} {_problem(k, value)}. "
            f"{total_values} bad value(s) on {total_lines} line(s) in this file ({per_col})"
        )
    if typed:
        pos += 1
    dq = {k: int(v) for k, v in zip(dq_names, row[pos:pos + len(dq_names)])}
    return {"rows": int(rows), "data_quality": dq}


def _check_unique_key(con: duckdb.DuckDBPyConnection, name: str, path: Path,
                      columns: list[tuple[str, str]], rows: int, physical_lines: int) -> None:
    """A dimension file defines each key once (a customer, product or store listed twice
    would double every row that joins it). Stops at the first repeated key with both lines."""
    keys = [c for c, k in columns if k == KEY]
    if not keys:
        return
    key = keys[0]
    src = _read_csv_sql(path, columns)
    (repeated,) = con.execute(f'SELECT count(*) - count(DISTINCT "{key}") FROM {src}').fetchone()
    if not repeated:
        return
    # Only when something is wrong: line numbers from the file order, as in _check_types.
    numbered = f"SELECT row_number() OVER () + 1 AS __line, * FROM {src}"
    value, line, first_line, n_keys = con.execute(
        f'WITH t AS ({numbered}), '
        f'd AS (SELECT "{key}" AS k, __line, min(__line) OVER (PARTITION BY "{key}") AS first_line FROM t) '
        f"SELECT k, __line, first_line, (SELECT count(DISTINCT k) FROM d WHERE __line > first_line) "
        f"FROM d WHERE __line > first_line ORDER BY __line LIMIT 1"
    ).fetchone()
    both = con.execute(f"WITH t AS ({numbered}) SELECT * EXCLUDE (__line) FROM t "
                       f"WHERE __line IN ({first_line}, {line}) ORDER BY __line").fetchall()
    identical = " (identical line)" if both[0] == both[1] else ""
    noun = KEY_NOUNS.get(key, key)
    raise InputError(
        f"{name} line {line}{_record_note(rows, physical_lines)}: {noun} {value} is already defined "
        f"on line {first_line}{identical}. {repeated} duplicated line(s) for {n_keys} {noun}(s) in this "
        f"file; each {key} must appear once"
    )


def _extra_quality(con: duckdb.DuckDBPyConnection, out_dir: Path, files: dict) -> None:
    """Cross-file / duplicate counts for the log (never stop, never drop)."""
    def src(name):
        return _read_csv_sql(out_dir / name, LPOINT_FILES[name])

    for name in LPOINT_FILES:
        cols = ", ".join(f'"{c}"' for c, _ in LPOINT_FILES[name])
        (dup,) = con.execute(
            f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {src(name)} "
            f"GROUP BY {cols} HAVING count(*) > 1)"
        ).fetchone()
        files[name]["data_quality"]["duplicate_lines"] = int(dup)
    pdde, pd = "LPOINT_BIG_COMP_02_PDDE.csv", "LPOINT_BIG_COMP_04_PD_CLAC.csv"
    (unknown_pd,) = con.execute(
        f"SELECT count(*) FROM {src(pdde)} p WHERE p.pd_c IS NULL OR NOT EXISTS "
        f"(SELECT 1 FROM {src(pd)} c WHERE c.pd_c = p.pd_c)"
    ).fetchone()
    files[pdde]["data_quality"]["unknown_pd_c"] = int(unknown_pd)


# --------------------------------------------------------------------------- datasets

def _prepare_lpoint(raw_dir: Path, out_dir: Path, log) -> list[dict]:
    missing = [n for n in LPOINT_FILES if not (raw_dir / n).is_file()]
    if missing:
        raise InputError(
            f"missing input file(s) in {raw_dir}: {', '.join(missing)} "
            f"(expected all of: {', '.join(LPOINT_FILES)})"
        )
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    results: dict[str, dict] = {}
    for name, columns in LPOINT_FILES.items():
        t0 = time.perf_counter()
        path = raw_dir / name
        out = out_dir / name
        size = path.stat().st_size
        if size == 0:
            raise InputError(f"{name} line 1: file is empty (0 bytes, no header)")
        _check_header(name, path, [c for c, _ in columns])
        try:
            scan = _scan_and_write(name, path, out)
            if scan.physical_lines <= 1:
                raise InputError(f"{name} line 1: file has a header but no data rows (header only)")
            checked = _check_types(con, name, out, columns, scan.physical_lines)
            _check_unique_key(con, name, out, columns, checked["rows"], scan.physical_lines)
        except InputError:
            if out.is_symlink() or out.exists():
                out.unlink()
            raise
        seconds = time.perf_counter() - t0
        results[name] = {
            "file": name,
            "source": str(path.resolve()),
            "prepared": str(out),
            "rows": checked["rows"],
            "bytes": scan.bytes,
            "encoding": scan.encoding,
            "action": scan.action,
            "seconds": round(seconds, 3),
            "data_quality": checked["data_quality"],
        }
        log(f"{name}: {checked['rows']:,} rows, {scan.encoding}, {scan.action}, {seconds:.2f} s")
    t0 = time.perf_counter()
    _extra_quality(con, out_dir, results)
    log(f"data-quality counts (duplicates, unknown pd_c): {time.perf_counter() - t0:.2f} s")
    con.close()
    return list(results.values())


def cdnow_source(dataset: str, raw_dir: Path | None = None) -> Path:
    """The CDNOW file: ``raw_dir/<name>`` if present there, else the copy in lifetimes."""
    fname = CDNOW_FILES[dataset][0]
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


def _prepare_cdnow(dataset: str, raw_dir: Path | None, out_dir: Path, log) -> list[dict]:
    import pandas as pd

    t0 = time.perf_counter()
    fname, want_customers, want_tx = CDNOW_FILES[dataset]
    path = cdnow_source(dataset, raw_dir)
    if path.stat().st_size == 0:
        raise InputError(f"{fname} line 1: file is empty (0 bytes)")
    raw = pd.read_csv(path, sep=r"\s+", header=None, dtype=str, engine="c")
    # CDNOW_master.txt: header "customer_id date number_of_cds dollar_value";
    # CDNOW_sample.txt: no header, 5 columns (master customer id, sample index, date, cds, $).
    header_lines = 0
    if not raw.empty and not str(raw.iat[0, 0]).isdigit():
        raw = raw.iloc[1:].reset_index(drop=True)
        header_lines = 1
    if raw.shape[1] == 4:
        raw.columns = ["customer_id", "date", "quantity", "amount"]
    elif raw.shape[1] == 5:
        raw.columns = ["customer_id", "sample_index", "date", "quantity", "amount"]
    else:
        raise InputError(f"{fname}: expected 4 (master) or 5 (sample) whitespace-separated "
                         f"columns, found {raw.shape[1]}")
    lines = pd.Series(range(1 + header_lines, len(raw) + 1 + header_lines))
    date = pd.to_datetime(raw["date"], format="%Y%m%d", errors="coerce")
    checks = {
        "customer_id": raw["customer_id"].str.fullmatch(r"[0-9]+").fillna(False).astype(bool),
        "date": date.notna(),
        "quantity": raw["quantity"].str.fullmatch(_INT_RE).fillna(False).astype(bool),
        "amount": raw["amount"].str.fullmatch(_NUMERIC_RE).fillna(False).astype(bool),
    }
    for col, ok in checks.items():
        if not ok.all():
            i = int((~ok).to_numpy().argmax())
            raise InputError(f"{fname} line {int(lines.iat[i])}, column {col}: value "
                             f"{raw[col].iat[i]!r} is invalid; {int((~ok).sum())} bad value(s)")
    out_df = pd.DataFrame({
        "customer_id": raw["customer_id"],
        "purchase_date": date.dt.strftime("%Y-%m-%d"),
        "quantity": raw["quantity"].astype("int64"),
        "amount": raw["amount"],
    })
    customers, tx = out_df["customer_id"].nunique(), len(out_df)
    if (customers, tx) != (want_customers, want_tx):
        raise InputError(
            f"{fname}: expected {want_customers:,} customers / {want_tx:,} transactions, "
            f"found {customers:,} / {tx:,} — the file is not the published CDNOW log"
        )
    out = out_dir / CDNOW_OUT
    tmp = _atomic_target(out)
    out_df.to_csv(tmp, index=False, lineterminator="\n")
    os.replace(tmp, out)
    seconds = time.perf_counter() - t0
    log(f"{fname} -> {CDNOW_OUT}: {tx:,} rows, {customers:,} customers, {seconds:.2f} s")
    return [{
        "file": CDNOW_OUT,
        "source": str(path),
        "prepared": str(out),
        "rows": tx,
        "customers": customers,
        "bytes": path.stat().st_size,
        "encoding": "ascii",
        "action": f"converted from {fname} (whitespace-separated, YYYYMMDD)",
        "seconds": round(seconds, 3),
        "data_quality": {
            "non_positive_amount": int((pd.to_numeric(out_df["amount"]) <= 0).sum()),
        },
    }]


# --------------------------------------------------------------------------- public API

def prepare(dataset: str = "lpoint", raw_dir: str | Path | None = None,
            out_dir: str | Path | None = None, log=print) -> dict:
    """Check the raw files of ``dataset`` and write the prepared copies/links + report.

    Returns the report (also written to ``out_dir/_ingest_report.json``). Raises
    :class:`InputError` on unusable input."""
    from loyalty_analytics import paths

    if dataset not in ("lpoint", *CDNOW_FILES):
        raise ValueError(f"unknown dataset {dataset!r}")
    raw = Path(raw_dir).resolve() if raw_dir is not None else paths.raw_dir()
    out = Path(out_dir).resolve() if out_dir is not None else paths.prepared_dir()
    if log is None:
        log = lambda *_: None  # noqa: E731
    if dataset == "lpoint" and raw == out:
        raise InputError(f"output directory {out} must differ from the raw directory")
    out.mkdir(parents=True, exist_ok=True)
    report_path = out / REPORT_NAME
    report_path.unlink(missing_ok=True)  # never leave a stale report after a failed run

    t0 = time.perf_counter()
    if dataset == "lpoint":
        files = _prepare_lpoint(raw, out, log)
    else:
        files = _prepare_cdnow(dataset, raw, out, log)
    report = {
        "dataset": dataset,
        "raw_dir": str(raw),
        "out_dir": str(out),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 3),
        "files": files,
    }
    tmp = _atomic_target(report_path)
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, report_path)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loyalty_analytics.ingest",
        description="Check raw input files and write UTF-8 prepared inputs for dbt.",
    )
    parser.add_argument("--dataset", choices=["lpoint", *CDNOW_FILES], default="lpoint")
    parser.add_argument("--raw-dir", type=Path, default=None,
                        help="raw files (default: loyalty_analytics.paths.raw_dir())")
    parser.add_argument("--out", type=Path, default=None,
                        help="prepared files (default: loyalty_analytics.paths.prepared_dir())")
    args = parser.parse_args(argv)
    try:
        report = prepare(args.dataset, args.raw_dir, args.out,
                         log=lambda m: print(m, flush=True))
    except InputError as exc:
        print(f"ingest: input error: {exc}", file=sys.stderr)
        return 2
    print(f"ingest: {len(report['files'])} file(s) OK in {report['seconds']:.2f} s -> "
          f"{report['out_dir']} (report: {REPORT_NAME})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
