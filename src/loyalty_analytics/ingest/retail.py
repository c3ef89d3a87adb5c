"""The generic contract (``contract.GENERIC``): a retailer's own files, read through their mapping
config (``ingest.mapping``), checked, and written as the three canonical Parquet tables the dbt
source ``retail`` reads (transactions, products, customer_attributes).

Set-based in DuckDB and streamed: each file is checked in one pass (every mapped column converted
to its canonical type; a value that does not convert stops with the config key, file, line or
row, column and value), then written with ``COPY (…) TO … (FORMAT parquet)``; no line is held in
pandas. Rows that convert but are bad data (no customer, unknown product, duplicates, returns,
non-positive amounts, …) pass and are decided in dbt (``int_retail_lines_checked``).

The steps live in sibling modules: ``retail_files`` (the user's files), ``retail_convert`` (one
column → canonical), ``retail_checks`` (value and key checks); this one writes the tables.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from functools import partial
from pathlib import Path

import duckdb

from loyalty_analytics.contract import (
    F_ID,
    F_NUMBER,
    GENERIC,
    MONEY_SQL_TYPE,
    ONE_BUSINESS_UNIT,
    PRODUCT_FIELDS,
    TRANSACTION_FIELDS,
    Table,
)

from .checks import sql_string
from .errors import InputError
from .mapping import Mapping, source_dir
from .output import atomic_target
from .retail_checks import check_unique_key, check_values
from .retail_convert import Converted, convert
from .retail_files import SourceFile, open_file

TRANSACTIONS, PRODUCTS, CUSTOMER_ATTRIBUTES = GENERIC.tables
# Mapped fields whose every value must be filled in (the others: an empty value is data, decided in dbt).
REQUIRED_VALUES = {"receipt_id", "timestamp", "date", "quantity", "amount", "unit_price"}
# What makes two lines "the same line" (the duplicate_line rule in dbt uses the same columns):
# every canonical column the file maps, i.e. all but the file name and line number.
DUPLICATE_COLUMNS = tuple(c for c in TRANSACTIONS.column_names if c not in ("source_file", "source_line"))


# ----------------------------------------------------------------------------- writing


def _copy(con: duckdb.DuckDBPyConnection, select: str, out: Path) -> None:
    """Write a query's rows to a Parquet file, streamed, under a temporary name first."""
    tmp = atomic_target(out)
    tmp.unlink(missing_ok=True)
    try:
        con.execute(f"copy ({select}) to {sql_string(tmp)} (format parquet, compression zstd)")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, out)


def _typed(table: Table, values: dict[str, str]) -> str:
    """The select list of a canonical table: every declared column, cast to its declared type."""
    return ", ".join(f"cast({values.get(c.name, 'null')} as {c.sql_type}) as {c.name}" for c in table.columns)


# ----------------------------------------------------------------------------- transactions


def _transaction_values(source: SourceFile) -> tuple[dict[str, str], list[Converted]]:
    mapping = source.mapping
    columns = mapping.transactions.columns
    key = "transactions.columns"
    kinds = {field.name: field.kind for field in TRANSACTION_FIELDS}
    converted = {
        field: convert(source, f"{key}.{field}", kinds[field], column, required=field in REQUIRED_VALUES)
        for field, column in columns.items()
    }
    values = {field: c.value for field, c in converted.items()}
    values["purchased_at"] = values.pop("timestamp", None) or values.pop("date")
    if "unit_price" in converted:
        values["amount"] = f"try_cast({values['unit_price']} * {values['quantity']} as {MONEY_SQL_TYPE})"
        price = converted["unit_price"]
        converted["unit_price"] = Converted(
            price.field,
            price.column,
            price.value,
            f"({price.ok} and {values['amount']} is not null)",
            price.problem + f" (and quantity × unit_price must fit {MONEY_SQL_TYPE})",
        )
    values.setdefault("channel", sql_string(mapping.default_channel))
    values.setdefault("business_unit", sql_string(ONE_BUSINESS_UNIT))
    values["source_file"] = sql_string(source.name)
    values["source_line"] = "__row"
    prefix = mapping.cancellation_receipt_prefix
    values["is_cancellation"] = (
        f"coalesce(starts_with({values['receipt_id']}, {sql_string(prefix)}), false)" if prefix else "false"
    )
    values["is_non_product"] = _non_product_test(values.get("product_id", "null"), mapping)
    return values, list(converted.values())


def _non_product_test(product_id: str, mapping: Mapping) -> str:
    if not mapping.non_product_ids:
        return "false"
    listed = ", ".join(sql_string(code) for code in mapping.non_product_ids)
    return f"coalesce({product_id} in ({listed}), false)"


def _transaction_counts(con: duckdb.DuckDBPyConnection, prepared: Path) -> dict:
    """Report-only counts (dbt decides what is quarantined or a return) and the data's days."""
    src = f"read_parquet({sql_string(prepared)})"
    row = con.execute(
        f"""select count(*), count(distinct customer_id), count(*) filter (where customer_id is null),
                   count(*) filter (where is_cancellation), count(*) filter (where quantity < 0),
                   count(*) filter (where is_non_product), count(*) filter (where product_id is null),
                   cast(min(purchased_at) as date), cast(max(purchased_at) as date)
            from {src}"""
    ).fetchone()
    (duplicates,) = con.execute(
        f"select coalesce(sum(n - 1), 0) from (select count(*) as n from {src} "
        f"group by {', '.join(DUPLICATE_COLUMNS)} having count(*) > 1)"
    ).fetchone()
    names = (
        "rows",
        "customers",
        "lines_without_customer",
        "cancellation_lines",
        "negative_quantity_lines",
        "non_product_lines",
        "lines_without_product",
        "first_day",
        "last_day",
    )
    counts = dict(zip(names, row))
    counts["duplicate_lines"] = int(duplicates)
    return counts


def sampled_scan(scan: str, customer_id: str, receipt_id: str, customers: int) -> str:
    """The lines of a deterministic sample of ``customers`` customers: every line of the customers
    whose md5(id) sorts first, and the same share of the lines without a customer (whole
    receipts, chosen by md5 of the receipt id). The same file gives the same sample on every
    machine; CI builds the real datasets this way."""
    return f"""(
        with lines as (select * from {scan}),
        known as (select distinct {customer_id} as id from lines where {customer_id} is not null),
        chosen as (select id from known order by md5(id), id limit {int(customers)}),
        share as (select least(1.0, {int(customers)} / greatest(count(*), 1)) as fraction from known)
        select lines.*
        from lines
        where {customer_id} in (select id from chosen)
            or ({customer_id} is null
                and ('0x' || substr(md5(coalesce({receipt_id}, '')), 1, 8))::ubigint
                    < (select fraction from share) * 4294967296)
    )"""


def prepare_transactions(
    con, mapping: Mapping, folder: Path, out_dir: Path, sample_customers: int | None = None
) -> tuple[dict, dict]:
    source = open_file(con, mapping, mapping.transactions, folder)
    values, converted = _transaction_values(source)
    rows = check_values(con, source, converted)  # every line is checked, sampled or not
    out = out_dir / TRANSACTIONS.file
    scan = source.scan()
    if sample_customers is not None:
        scan = sampled_scan(scan, values["customer_id"], values["receipt_id"], sample_customers)
    _copy(con, f"select {_typed(TRANSACTIONS, values)} from {scan}", out)
    counts = _transaction_counts(con, out)
    assert sample_customers is not None or counts["rows"] == rows
    action = "checked and converted to the canonical transactions table"
    if sample_customers is not None:
        action += f" (sample: every line of {counts['customers']:,} customers, {counts['rows']:,} of {rows:,} lines)"
    return _file_entry(source, out, counts["rows"], action), counts


# ----------------------------------------------------------------------------- products


def _derived_products(mapping: Mapping, transactions: Path) -> str:
    """Products from the transactions: every product id, with its most frequent name on the lines
    (a name before none; ties: the first in sort order)."""
    src = f"read_parquet({sql_string(transactions)})"
    return f"""
        select product_id, product_name
        from (
            select product_id, product_name,
                   row_number() over (
                       partition by product_id order by product_name is null, count(*) desc, product_name
                   ) as choice
            from {src}
            where product_id is not null
            group by product_id, product_name
        )
        where choice = 1"""


def prepare_products(con, mapping: Mapping, folder: Path, out_dir: Path) -> dict:
    out = out_dir / PRODUCTS.file
    transactions = out_dir / TRANSACTIONS.file
    derived = _derived_products(mapping, transactions)
    if mapping.products is None:
        values = {"product_id": "product_id", "product_name": "product_name"}
        values["is_non_product"] = _non_product_test("product_id", mapping)
        _copy(con, f"select {_typed(PRODUCTS, values)} from ({derived}) order by product_id", out)
        (rows,) = con.execute(f"select count(*) from read_parquet({sql_string(out)})").fetchone()
        return {
            "file": PRODUCTS.file,
            "source": str(transactions),
            "prepared": str(out),
            "rows": int(rows),
            "action": "derived from the transactions (no products file in the config)",
        }
    source = open_file(con, mapping, mapping.products, folder)
    kinds = {field.name: field.kind for field in PRODUCT_FIELDS}
    converted = {
        field: convert(source, f"products.columns.{field}", kinds[field], column, required=field == "product_id")
        for field, column in mapping.products.columns.items()
    }
    rows = check_values(con, source, list(converted.values()))
    check_unique_key(con, source, converted["product_id"], "product")
    values = {field: f"p.{field}" for field in converted}
    inner = ", ".join(f"{c.value} as {field}" for field, c in converted.items())
    if "product_name" not in converted:  # names from the lines, when the transactions map them
        values["product_name"] = "names.product_name"
    values["is_non_product"] = _non_product_test("p.product_id", mapping)
    _copy(
        con,
        f"select {_typed(PRODUCTS, values)} from (select {inner} from {source.scan()}) as p "
        f"left join ({derived}) as names using (product_id)",
        out,
    )
    return _file_entry(source, out, rows, "checked and converted to the canonical products table")


# ----------------------------------------------------------------------------- customers


def prepare_customer_attributes(
    con, mapping: Mapping, folder: Path, out_dir: Path, sample_customers: int | None = None
) -> dict:
    """Long: one row per customer and attribute with a value (none without a customers file).
    In a sample, only the customers of the sampled transactions."""
    out = out_dir / CUSTOMER_ATTRIBUTES.file
    empty = {c.name: "null" for c in CUSTOMER_ATTRIBUTES.columns}
    if mapping.customers is None:
        _copy(con, f"select {_typed(CUSTOMER_ATTRIBUTES, empty)} where false", out)
        return {"file": CUSTOMER_ATTRIBUTES.file, "source": None, "prepared": str(out), "rows": 0, "action": "empty"}
    source = open_file(con, mapping, mapping.customers, folder)
    for attribute in mapping.attributes:
        if attribute.column not in source.types:
            raise InputError(
                f"{mapping.label()}: customers.attributes.{attribute.name}: column {attribute.column!r} is not in "
                f"{source.name} (its columns: {', '.join(source.types)})"
            )
    key = convert(source, "customers.columns.customer_id", F_ID, mapping.customers.columns["customer_id"], True)
    attributes = [(a, convert(source, f"customers.attributes.{a.name}", a.kind, a.column)) for a in mapping.attributes]
    rows = check_values(con, source, [key] + [c for _, c in attributes])
    check_unique_key(con, source, key, "customer")
    parts = []
    for attribute, c in attributes:
        number = attribute.kind == F_NUMBER
        values = {
            "customer_id": key.value,
            "attribute": sql_string(attribute.name),
            "attribute_position": str(attribute.position),
            "value_text": "null" if number else f"nullif({c.value}, '')",
            "value_number": c.value if number else "null",
        }
        parts.append(f"select {_typed(CUSTOMER_ATTRIBUTES, values)} from {source.scan()} where {c.value} is not null")
    select = " union all ".join(parts) if parts else f"select {_typed(CUSTOMER_ATTRIBUTES, empty)} where false"
    keep = "value_text is not null or value_number is not null"
    if sample_customers is not None:
        transactions = sql_string(out_dir / TRANSACTIONS.file)
        keep = f"({keep}) and customer_id in (select customer_id from read_parquet({transactions}))"
    _copy(con, f"select * from ({select}) where {keep}", out)
    return _file_entry(source, out, rows, "checked; attributes written long (customer, attribute, value)")


# ----------------------------------------------------------------------------- all three


def _file_entry(source: SourceFile, out: Path, rows: int, action: str) -> dict:
    return {
        "file": out.name,
        "source": str(source.path),
        "prepared": str(out),
        "rows": rows,
        "bytes": source.path.stat().st_size,
        "format": source.files.format,
        "action": action,
    }


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` months earlier, clamped to the month's end (12-31 → 09-30)."""
    import calendar

    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def dbt_vars(mapping: Mapping, first_day: dt.date, last_day: dt.date) -> dict:
    """The dbt vars of this dataset: its name, the generic source, what it records
    (capabilities), its dates (config, else from the data: the period is the data's first..last
    day, calibration_end three months before the last day) and its settings."""
    variables = {"dataset": mapping.name, "source": GENERIC.source, **mapping.capabilities.dbt_vars()}
    variables["period_start"] = (mapping.period_start or first_day).isoformat()
    variables["period_end"] = (mapping.period_end or last_day).isoformat()
    variables["calibration_end"] = (mapping.calibration_end or months_before(last_day, 3)).isoformat()
    variables["clv_model"] = mapping.clv_model
    if mapping.max_line_amount is not None:
        variables["max_line_amount"] = mapping.max_line_amount
    if mapping.max_line_quantity is not None:
        variables["max_line_quantity"] = mapping.max_line_quantity
    return variables


def prepare_retail(
    mapping: Mapping, raw_dir: Path | None, out_dir: Path, log, sample_customers: int | None = None
) -> tuple[list[dict], dict]:
    """Check the files of ``mapping`` and write the three canonical tables into ``out_dir``
    (with ``sample_customers``, the transactions of that many customers only: sampled_scan).
    Returns the report's file entries and its extra keys (counts, dbt vars)."""
    folder = source_dir(mapping, raw_dir)
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = true")
    con.execute("set enable_progress_bar = false")
    written = [out_dir / table.file for table in GENERIC.tables]
    try:
        t0 = time.perf_counter()
        entry, counts = prepare_transactions(con, mapping, folder, out_dir, sample_customers)
        entry["seconds"] = round(time.perf_counter() - t0, 3)
        entry["data_quality"] = {k: v for k, v in counts.items() if k not in ("first_day", "last_day")}
        files = [entry]
        log(f"{entry['source']} -> {entry['file']}: {entry['rows']:,} rows, {entry['seconds']:.2f} s")
        for prepare in (prepare_products, partial(prepare_customer_attributes, sample_customers=sample_customers)):
            t0 = time.perf_counter()
            entry = prepare(con, mapping, folder, out_dir)
            entry["seconds"] = round(time.perf_counter() - t0, 3)
            files.append(entry)
            log(f"{entry['source'] or '-'} -> {entry['file']}: {entry['rows']:,} rows, {entry['seconds']:.2f} s")
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    extra = {
        "config": str(mapping.path),
        "source_dir": str(folder),
        "currency": mapping.currency,
        "sample_customers": sample_customers,
        "first_day": counts["first_day"].isoformat(),
        "last_day": counts["last_day"].isoformat(),
        "dbt_vars": dbt_vars(mapping, counts["first_day"], counts["last_day"]),
    }
    return files, extra
