"""The L.Point files (contract.LPOINT): all six present, each one checked (size, header,
encoding, kinds, key) and written to the prepared folder, then the informational counts that
need more than one file (duplicate lines, unknown product codes)."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

from loyalty_analytics.contract import LPOINT, Table

from .checks import check_header, check_types, check_unique_key, read_csv_sql, sql_string
from .encoding import scan_and_write
from .errors import InputError

# What a key names, for duplicate-key messages.
KEY_NOUNS = {"cust": "customer", "pd_c": "product code", "br_c": "store code"}


def _data_quality_counts(table: Table) -> dict[str, str]:
    """Report-only counts (dbt's staging decides what is quarantined): name -> SQL condition."""
    names = table.column_names
    start, end = (day.strftime("%Y%m%d") for day in (LPOINT.period.start, LPOINT.period.end))
    counts = {}
    if "buy_am" in names:
        counts["non_positive_amount"] = "try_cast(buy_am AS DOUBLE) <= 0"
    if "de_dt" in names:
        counts["date_outside_period"] = (
            f"regexp_full_match(de_dt, '[0-9]{{8}}') AND (de_dt < '{start}' OR de_dt > '{end}')"
        )
    known = ", ".join(sql_string(code) for code in LPOINT.affiliate_codes())
    for column in table.columns:
        if column.known_codes:
            counts[f"unknown_{column.name}"] = f"{column.name} IS NULL OR {column.name} NOT IN ({known})"
    return counts


def _check_file(con: duckdb.DuckDBPyConnection, table: Table, path: Path, out: Path, log) -> dict:
    """Check one file and write its prepared copy or link; on a stop, nothing is left in `out`."""
    t0 = time.perf_counter()
    name = table.file
    if path.stat().st_size == 0:
        raise InputError(f"{name} line 1: file is empty (0 bytes, no header)")
    check_header(name, path, list(table.column_names))
    try:
        scan = scan_and_write(name, path, out)
        if scan.physical_lines <= 1:
            raise InputError(f"{name} line 1: file has a header but no data rows (header only)")
        checked = check_types(con, name, out, table, scan.physical_lines, _data_quality_counts(table))
        if table.key is not None:
            check_unique_key(
                con,
                name,
                out,
                table,
                KEY_NOUNS.get(table.key.name, table.key.name),
                checked["rows"],
                scan.physical_lines,
            )
    except InputError:
        if out.is_symlink() or out.exists():
            out.unlink()
        raise
    seconds = time.perf_counter() - t0
    log(f"{name}: {checked['rows']:,} rows, {scan.encoding}, {scan.action}, {seconds:.2f} s")
    return {
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


def _cross_file_counts(con: duckdb.DuckDBPyConnection, out_dir: Path, files: dict) -> None:
    """Duplicate lines per file and PDDE lines without a catalogue product, for the report
    (never stop, never drop)."""

    def src(table: Table) -> str:
        return read_csv_sql(out_dir / table.file, table.column_names)

    for table in LPOINT.tables:
        cols = ", ".join(f'"{c}"' for c in table.column_names)
        (dup,) = con.execute(
            f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {src(table)} "
            f"GROUP BY {cols} HAVING count(*) > 1)"
        ).fetchone()
        files[table.file]["data_quality"]["duplicate_lines"] = int(dup)
    pdde, products = LPOINT.table("pdde"), LPOINT.table("pd_clac")
    (unknown_pd,) = con.execute(
        f"SELECT count(*) FROM {src(pdde)} p WHERE p.pd_c IS NULL OR NOT EXISTS "
        f"(SELECT 1 FROM {src(products)} c WHERE c.pd_c = p.pd_c)"
    ).fetchone()
    files[pdde.file]["data_quality"]["unknown_pd_c"] = int(unknown_pd)


def prepare_lpoint(raw_dir: Path, out_dir: Path, log) -> list[dict]:
    missing = [n for n in LPOINT.files if not (raw_dir / n).is_file()]
    if missing:
        raise InputError(
            f"missing input file(s) in {raw_dir}: {', '.join(missing)} (expected all of: {', '.join(LPOINT.files)})"
        )
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    results = {
        table.file: _check_file(con, table, raw_dir / table.file, out_dir / table.file, log) for table in LPOINT.tables
    }
    t0 = time.perf_counter()
    _cross_file_counts(con, out_dir, results)
    log(f"data-quality counts (duplicates, unknown pd_c): {time.perf_counter() - t0:.2f} s")
    con.close()
    return list(results.values())
