"""Checks of one CSV file against its declared table (loyalty_analytics.contract): the exact
header, the CSV structure, the kind of every typed column and the key of a dimension file.

Set-based in DuckDB: the file is read as text (``all_varchar``, strict mode) and every typed
column is tested with a regex / ``try_cast`` to its SQL type / ``try_strptime``; line numbers
(1-based, header = line 1) come from the file order and are computed only when a value is bad."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import duckdb

from loyalty_analytics.contract import CODE, DATE, HOUR, INT, KEY, NUMERIC, TEXT, Column, Table

from .encoding import UTF8_BOM
from .errors import InputError

INTEGER_MIN, INTEGER_MAX = -2_147_483_648, 2_147_483_647

# The shape only; the range comes from a try_cast to the SQL type (the generic contract's
# converters, ingest.retail_convert, use the same rules).
INTEGER_TEXT = r"[+-]?[0-9]+"
_DECIMAL_TEXT = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
# A padded code starts or ends with a space or a tab (LIKE: ~1.7x faster than a regex here).
_PADDING_PATTERNS = (" %", "% ", "\t%", "%\t")


def not_padded_sql(column_sql: str) -> str:
    """SQL, true when the text neither starts nor ends with a space or a tab."""
    return "not (" + " or ".join(f"{column_sql} like '{p}'" for p in _PADDING_PATTERNS) + ")"


_KIND_TEXT = {
    INT: f"an integer in INTEGER's range {INTEGER_MIN:,}..{INTEGER_MAX:,}",
    DATE: "a YYYYMMDD date",
    HOUR: "an hour 0..23",
    NUMERIC: "a finite number (integer or plain decimal that fits a DOUBLE)",
}


def sql_string(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def read_csv_sql(path: Path, names: tuple[str, ...]) -> str:
    """A strict read_csv of the file with every column as text."""
    cols = ", ".join(f"{sql_string(c)}: 'VARCHAR'" for c in names)
    return (
        f"read_csv({sql_string(path)}, header=true, auto_detect=false, columns={{{cols}}}, "
        "delim=',', quote='\"', escape='\"', strict_mode=true, null_padding=false)"
    )


def record_note(rows: int, physical_lines: int) -> str:
    """Line numbers are CSV records; say so when they differ from the file's physical lines."""
    if rows + 1 == physical_lines:
        return ""
    return (
        f" (CSV record number; the file has {physical_lines} physical lines for "
        f"{rows} records + header: quoted line breaks or blank lines)"
    )


# --------------------------------------------------------------------------- header


def _first_line(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        first = fh.readline(1 << 20)
    first = first.removeprefix(UTF8_BOM)
    try:
        text = first.decode("utf-8")
    except UnicodeDecodeError:
        text = first.decode("cp949", errors="replace")
    return list(next(csv.reader(io.StringIO(text.rstrip("\r\n"))), []))


def _header_problems(got: list[str], expected: list[str]) -> list[str]:
    missing = [c for c in expected if c not in got]
    extra = [c for c in got if c not in expected]
    parts = []
    if missing:
        parts.append("missing column(s) " + ", ".join(missing))
    if extra:
        parts.append("unknown/extra column(s) " + ", ".join(repr(c) for c in extra))
    if parts:
        return parts
    if len(got) != len(set(got)):
        dup = sorted({c for c in got if got.count(c) > 1})
        return ["duplicated column(s) " + ", ".join(dup)]
    pos = next(i for i, (g, e) in enumerate(zip(got, expected)) if g != e)
    return [f"columns out of order: column {pos + 1} is {got[pos]!r}, expected {expected[pos]!r}"]


def check_header(name: str, path: Path, expected: list[str]) -> None:
    got = _first_line(path)
    if got == expected:
        return
    raise InputError(
        f"{name} line 1 (header): {'; '.join(_header_problems(got, expected))}. "
        f"Expected header: {','.join(expected)}; found: {','.join(got)}"
    )


# --------------------------------------------------------------------------- kinds


def _bad_expr(col: str, kind: str) -> str:
    c = f'"{col}"'
    not_padded = not_padded_sql(c)
    if kind == CODE:
        ok = f"({c} IS NULL OR {not_padded})"
    elif kind == KEY:
        ok = f"({c} IS NOT NULL AND {not_padded})"
    elif kind == INT:
        # try_cast alone would accept ' 12' and round '1.5'; the regex alone knows no range.
        ok = f"(regexp_full_match({c}, '{INTEGER_TEXT}') AND try_cast({c} AS INTEGER) IS NOT NULL)"
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


def _csv_error(name: str, exc: duckdb.Error, names: tuple[str, ...], line_note: str) -> InputError:
    msg = str(exc)
    m = re.search(r"CSV Error on Line: (\d+)", msg)
    line = m.group(1) if m else "?"
    orig = re.search(r"Original Line: ?(.*)", msg)
    cnt = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", msg)
    if cnt:
        what = f"column count: expected {cnt.group(1)} fields ({','.join(names)}), found {cnt.group(2)}"
    else:
        head = msg.split("Possible fixes")[0].strip().splitlines()
        detail = head[-1].strip() if len(head) > 2 else "see DuckDB error"
        what = f"malformed CSV ({detail.rstrip('.')})"
    text = f"{name} line {line}{line_note}: {what}"
    if orig:
        text += f"; line content: {orig.group(1)[:200]!r}"
    return InputError(text)


def _flag(column: Column) -> str:
    return f'"__bad_{column.name}"'


def _count_pass(
    con: duckdb.DuckDBPyConnection, name: str, flagged: str, table: Table, typed: list[Column], counts: dict[str, str]
) -> tuple:
    """Pass 1 (parallel, no line numbers): rows, bad values per typed column, lines with a bad
    value, then the informational counts. Clean files need nothing more."""
    aggs = ["count(*) AS __rows"] + [f"count(*) FILTER (WHERE {_flag(c)})" for c in typed]
    if typed:
        aggs.append(f"count(*) FILTER (WHERE {' OR '.join(_flag(c) for c in typed)})")
    aggs += [f"count(*) FILTER (WHERE {condition})" for condition in counts.values()]
    try:
        return con.execute(f"SELECT {', '.join(aggs)} FROM ({flagged})").fetchone()
    except duckdb.Error as exc:
        raise _csv_error(name, exc, table.column_names, "") from None


def _first_bad_values(con: duckdb.DuckDBPyConnection, src: str, flags: str, typed: list[Column]) -> list[tuple]:
    """Pass 2 (only when something is wrong): (first bad line, its value) per typed column.
    row_number() OVER () runs as a streaming window over the ordered CSV scan."""
    aggs = []
    for c in typed:
        aggs += [f"min(__line) FILTER (WHERE {_flag(c)})", f'arg_min("{c.name}", __line) FILTER (WHERE {_flag(c)})']
    row = con.execute(
        f"WITH t AS (SELECT row_number() OVER () + 1 AS __line, * FROM {src}), "
        f"f AS (SELECT *{flags} FROM t) "
        f"SELECT {', '.join(aggs)} FROM f"
    ).fetchone()
    return [(row[2 * i], row[2 * i + 1]) for i in range(len(typed))]


def _bad_values_error(
    name: str, table: Table, typed: list[Column], bad_counts, first_bad, bad_lines: int, line_note: str
) -> InputError:
    """The first bad value in file order, and the bad counts per column."""
    names = table.column_names
    bad = [(line, c, value, n) for c, n, (line, value) in zip(typed, bad_counts, first_bad) if n]
    first_line, column, value, _ = min(bad, key=lambda b: (b[0], names.index(b[1].name)))
    shown = "empty" if value is None else repr(value)
    per_col = ", ".join(f"{c.name}: {n}" for _, c, _, n in sorted(bad, key=lambda b: names.index(b[1].name)))
    return InputError(
        f"{name} line {first_line}{line_note}, column {column.name}: value {shown} "
        f"{_problem(column.kind, value)}. "
        f"{sum(b[3] for b in bad)} bad value(s) on {bad_lines} line(s) in this file ({per_col})"
    )


def check_types(
    con: duckdb.DuckDBPyConnection, name: str, path: Path, table: Table, physical_lines: int, counts: dict[str, str]
) -> dict:
    """Row count and kind checks in one set-based pass; stops at the first bad value.
    `counts` maps a data-quality name to a SQL condition over the text columns; the rows
    matching each are counted for the report (never stopped)."""
    typed = [c for c in table.columns if c.kind != TEXT]
    flags = "".join(f", {_bad_expr(c.name, c.kind)} AS {_flag(c)}" for c in typed)
    src = read_csv_sql(path, table.column_names)
    totals = _count_pass(con, name, f"SELECT *{flags} FROM {src}", table, typed, counts)
    rows, bad_counts = totals[0], totals[1 : 1 + len(typed)]
    if rows == 0:
        raise InputError(f"{name} line 1: file has a header but no data rows (header only)")
    if any(bad_counts):
        raise _bad_values_error(
            name,
            table,
            typed,
            bad_counts,
            _first_bad_values(con, src, flags, typed),
            totals[1 + len(typed)],
            record_note(rows, physical_lines),
        )
    informational = totals[1 + len(typed) + (1 if typed else 0) :]
    return {"rows": int(rows), "data_quality": {k: int(v) for k, v in zip(counts, informational)}}


# --------------------------------------------------------------------------- keys


def check_unique_key(
    con: duckdb.DuckDBPyConnection, name: str, path: Path, table: Table, noun: str, rows: int, physical_lines: int
) -> None:
    """A dimension file defines each key once (a customer, product or store listed twice
    would double every row that joins it). Stops at the first repeated key with both lines."""
    if table.key is None:
        return
    key = table.key.name
    src = read_csv_sql(path, table.column_names)
    (repeated,) = con.execute(f'SELECT count(*) - count(DISTINCT "{key}") FROM {src}').fetchone()
    if not repeated:
        return
    # Only when something is wrong: line numbers from the file order, as in check_types.
    numbered = f"SELECT row_number() OVER () + 1 AS __line, * FROM {src}"
    value, line, first_line, n_keys = con.execute(
        f"WITH t AS ({numbered}), "
        f'd AS (SELECT "{key}" AS k, __line, min(__line) OVER (PARTITION BY "{key}") AS first_line FROM t) '
        f"SELECT k, __line, first_line, (SELECT count(DISTINCT k) FROM d WHERE __line > first_line) "
        f"FROM d WHERE __line > first_line ORDER BY __line LIMIT 1"
    ).fetchone()
    both = con.execute(
        f"WITH t AS ({numbered}) SELECT * EXCLUDE (__line) FROM t "
        f"WHERE __line IN ({first_line}, {line}) ORDER BY __line"
    ).fetchall()
    identical = " (identical line)" if both[0] == both[1] else ""
    raise InputError(
        f"{name} line {line}{record_note(rows, physical_lines)}: {noun} {value} is already defined "
        f"on line {first_line}{identical}. {repeated} duplicated line(s) for {n_keys} {noun}(s) in this "
        f"file; each {key} must appear once"
    )
