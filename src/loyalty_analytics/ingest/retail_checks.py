"""Value checks of the generic contract's files (``ingest.retail``): every mapped column converts
(one set-based pass, stopping at the first bad value with file, line or row, column and counts),
and a products or customers file lists each key once."""

from __future__ import annotations

import duckdb

from .errors import InputError
from .retail_convert import Converted, quote_column
from .retail_files import SourceFile


def check_values(con: duckdb.DuckDBPyConnection, source: SourceFile, converted: list[Converted]) -> int:
    """One set-based pass: the rows, and every unacceptable value counted per column. Stops at
    the first bad value (in file order) with the counts; returns the row count."""
    checks = [c for c in converted if c.ok != "true"]
    aggregates = ["count(*)"] + [f"count(*) filter (where not coalesce({c.ok}, false))" for c in checks]
    try:
        totals = con.execute(f"select {', '.join(aggregates)} from {source.scan()}").fetchone()
    except duckdb.Error as error:
        raise InputError(
            f"{source.mapping.label()}: {source.files.key}.file: {source.name} cannot be read: {error}"
        ) from None
    rows, bad = totals[0], totals[1:]
    if rows == 0:
        raise InputError(f"{source.mapping.label()}: {source.files.key}.file: {source.name} has no rows")
    if any(bad):
        raise _bad_value_error(con, source, [(c, n) for c, n in zip(checks, bad) if n])
    return int(rows)


def _bad_value_error(con: duckdb.DuckDBPyConnection, source: SourceFile, bad: list[tuple[Converted, int]]):
    """Only when something is wrong: the first bad line / row of each bad column."""
    aggregates = []
    for c, _ in bad:
        flag = f"not coalesce({c.ok}, false)"
        aggregates += [
            f"min(__row) filter (where {flag})",
            f"arg_min(cast({quote_column(c.column)} as varchar), __row) filter (where {flag})",
        ]
    found = con.execute(f"select {', '.join(aggregates)} from {source.scan()}").fetchone()
    firsts = [(found[2 * i], found[2 * i + 1], c, n) for i, (c, n) in enumerate(bad)]
    row, value, first, _ = min(firsts, key=lambda f: f[0])
    shown = "empty" if value is None else repr(value)
    counts = ", ".join(f"{c.column}: {n}" for c, n in bad)
    return InputError(
        f"{source.mapping.label()}: {source.where(row)}, column {first.column} ({first.field}): value {shown} "
        f"{first.problem}. {sum(n for _, n in bad)} bad value(s) in {source.name} ({counts})"
    )


def check_unique_key(con: duckdb.DuckDBPyConnection, source: SourceFile, key: Converted, noun: str) -> None:
    """A products or customers file lists each key once (a key listed twice would double every
    line that joins it): stops at the first repeat, naming both lines / rows."""
    scan = f"(select {key.value} as __key, __row from {source.scan()})"
    (repeated,) = con.execute(f"select count(*) - count(distinct __key) from {scan}").fetchone()
    if not repeated:
        return
    value, row, first_row = con.execute(
        f"select __key, __row, first_row from (select __key, __row, min(__row) over (partition by __key) as first_row "
        f"from {scan}) where __row > first_row order by __row limit 1"
    ).fetchone()
    raise InputError(
        f"{source.mapping.label()}: {source.where(row)}: {noun} {value} ({key.field}: column {key.column}) is already "
        f"on {source.unit} {first_row}. {repeated} repeated {noun}(s) in {source.name}; each must appear once"
    )
