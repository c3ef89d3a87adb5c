"""The user's files of the generic contract (``ingest.retail``): where a mapping config section
points, what columns and types the file has, and how to scan it in DuckDB with the line or row
that messages report."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import duckdb

from .checks import sql_string
from .encoding import UTF8_BOM
from .errors import InputError
from .mapping import FileMapping, Mapping


@dataclass(frozen=True)
class SourceFile:
    """One of the user's files, open for SQL: its columns and types and how to scan it with
    ``__row``, the 1-based line (CSV, header = line 1) or row (Parquet) messages report."""

    mapping: Mapping
    files: FileMapping
    path: Path
    types: dict[str, str]

    @property
    def unit(self) -> str:
        return "line" if self.files.format == "csv" else "row"

    @property
    def name(self) -> str:
        return self.path.name

    def scan(self) -> str:
        if self.files.format == "parquet":
            return (
                f"(select *, file_row_number + 1 as __row "
                f"from read_parquet({sql_string(self.path)}, file_row_number = true))"
            )
        columns = ", ".join(f"{sql_string(c)}: 'VARCHAR'" for c in self.types)
        return (
            f"(select *, row_number() over () + 1 as __row from read_csv({sql_string(self.path)}, header = true, "
            f"auto_detect = false, columns = {{{columns}}}, delim = {sql_string(self.files.delimiter)}, "
            "quote = '\"', escape = '\"', strict_mode = true, null_padding = false))"
        )

    def where(self, row: int) -> str:
        return f"{self.name} {self.unit} {row}"


def _csv_header(path: Path, delimiter: str) -> list[str]:
    with open(path, "rb") as fh:
        first = fh.readline(1 << 20).removeprefix(UTF8_BOM)
    return next(
        csv.reader(io.StringIO(first.decode("utf-8", errors="replace").rstrip("\r\n")), delimiter=delimiter), []
    )


def open_file(con: duckdb.DuckDBPyConnection, mapping: Mapping, files: FileMapping, folder: Path) -> SourceFile:
    """The file a config section names, with its column types; stops when it is missing, empty,
    unreadable, or lacks a mapped column."""
    label = mapping.label()
    path = Path(files.file) if Path(files.file).is_absolute() else folder / files.file
    if not path.is_file():
        raise InputError(f"{label}: {files.key}.file: {path} does not exist")
    if path.stat().st_size == 0:
        raise InputError(f"{label}: {files.key}.file: {path.name} is empty (0 bytes)")
    if files.format == "csv":
        types = {column: "VARCHAR" for column in _csv_header(path, files.delimiter)}
    else:
        try:
            described = con.execute(f"describe select * from read_parquet({sql_string(path)})").fetchall()
        except duckdb.Error as error:
            raise InputError(
                f"{label}: {files.key}.file: {path.name} is not a readable Parquet file ({error})"
            ) from None
        types = {name: kind for name, kind, *_ in described}
    source = SourceFile(mapping, files, path, types)
    for field, column in files.columns.items():
        if column not in types:
            raise InputError(
                f"{label}: {files.key}.columns.{field}: column {column!r} is not in {path.name} "
                f"(its columns: {', '.join(types)})"
            )
    return source
