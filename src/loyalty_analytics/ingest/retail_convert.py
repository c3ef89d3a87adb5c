"""One mapped column of the generic contract (``ingest.retail``) in canonical form: SQL for its
canonical value, for whether a source value is acceptable, and what an unacceptable value is
not. Per field kind (``contract.F_*``) and per the column's type in the user's file."""

from __future__ import annotations

from dataclasses import dataclass

from loyalty_analytics.contract import (
    F_CATEGORY,
    F_CHANNEL,
    F_DAY,
    F_FLAG,
    F_ID,
    F_INTEGER,
    F_MONEY,
    F_NUMBER,
    F_TEXT,
    F_TIMESTAMP,
    MONEY_SCALE,
    MONEY_SQL_TYPE,
)

from .checks import INTEGER_TEXT, not_padded_sql, sql_string
from .errors import InputError
from .mapping import Mapping
from .retail_files import SourceFile

_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER")
_FLOAT_TYPES = ("FLOAT", "REAL", "DOUBLE")
_TIMESTAMP_TYPES = ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATETIME")
_MONEY_TEXT = rf"[+-]?([0-9]+(\.[0-9]{{0,{MONEY_SCALE}}})?|\.[0-9]{{1,{MONEY_SCALE}}})"
_NUMBER_TEXT = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
_FLAG_TRUE, _FLAG_FALSE = ("true", "t", "1", "yes", "y"), ("false", "f", "0", "no", "n")


@dataclass(frozen=True)
class Converted:
    """A mapped column in canonical form: the value, whether the source value is acceptable, and
    what an unacceptable value is not (for the message)."""

    field: str  # config key, e.g. transactions.columns.quantity
    column: str  # the user's column
    value: str  # SQL
    ok: str  # SQL, true when the source value is acceptable
    problem: str


def quote_column(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _base_type(sql_type: str) -> str:
    return sql_type.split("(")[0].upper()


def _id(c: str, sql_type: str, required: bool) -> tuple[str, str, str]:
    base = _base_type(sql_type)
    if base in _INTEGER_TYPES or base in ("UBIGINT", "UHUGEINT"):
        value, ok = f"cast({c} as varchar)", "true"
    elif base in _FLOAT_TYPES or base == "DECIMAL":
        value = f"cast(try_cast({c} as bigint) as varchar)"
        ok = f"({c} is null or ({c} = trunc({c}) and try_cast({c} as bigint) is not null))"
    elif base == "VARCHAR":
        value, ok = f"nullif({c}, '')", f"({c} is null or {not_padded_sql(c)})"
    else:
        raise ValueError(sql_type)
    if required:
        ok = f"({ok} and {value} is not null)"
    return (
        value,
        ok,
        "is not an id (text without leading/trailing spaces, or a whole number)"
        + ("; this id is required" if required else ""),
    )


def _timestamp(c: str, sql_type: str, mapping: Mapping) -> tuple[str, str, str]:
    """Local time: a naive timestamp as given, or converted from timezone.from to timezone.to;
    an instant (TIMESTAMP WITH TIME ZONE) in timezone.to (UTC without one)."""
    base = _base_type(sql_type)
    if base in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return f"timezone({sql_string(mapping.timezone_to or 'UTC')}, {c})", f"({c} is not null)", "is empty"
    if base in _TIMESTAMP_TYPES or base == "DATE":
        value = f"cast({c} as timestamp)"
    elif base == "VARCHAR":
        fmt = mapping.timestamp_format
        value = f"try_strptime({c}, {sql_string(fmt)})" if fmt else f"try_cast({c} as timestamp)"
    else:
        raise ValueError(sql_type)
    if mapping.timezone_from and mapping.timezone_to:
        value = f"timezone({sql_string(mapping.timezone_to)}, timezone({sql_string(mapping.timezone_from)}, {value}))"
    shape = f"in the format {mapping.timestamp_format!r}" if mapping.timestamp_format else "(YYYY-MM-DD HH:MM:SS)"
    return value, f"({value} is not null)", f"is not a timestamp {shape}"


def _day(c: str, sql_type: str, mapping: Mapping) -> tuple[str, str, str]:
    base = _base_type(sql_type)
    if base in _TIMESTAMP_TYPES or base == "DATE":
        value = f"cast(cast({c} as date) as timestamp)"
    elif base == "VARCHAR":
        fmt = mapping.date_format or "%Y-%m-%d"
        value = f"cast(cast(try_strptime({c}, {sql_string(fmt)}) as date) as timestamp)"
    else:
        raise ValueError(sql_type)
    return value, f"({value} is not null)", f"is not a date in the format {mapping.date_format or '%Y-%m-%d'!r}"


def _integer(c: str, sql_type: str) -> tuple[str, str, str]:
    base = _base_type(sql_type)
    value = f"try_cast({c} as integer)"
    if base in _FLOAT_TYPES or base == "DECIMAL":
        ok = f"({c} = trunc({c}) and {value} is not null)"
    elif base == "VARCHAR":
        ok = f"(regexp_full_match({c}, '{INTEGER_TEXT}') and {value} is not null)"
    elif base in _INTEGER_TYPES or base in ("UBIGINT", "UHUGEINT"):
        ok = f"({value} is not null)"
    else:
        raise ValueError(sql_type)
    return value, f"coalesce({ok}, false)", "is not a whole number in INTEGER's range"


def _money(c: str, sql_type: str) -> tuple[str, str, str]:
    base = _base_type(sql_type)
    value = f"try_cast({c} as {MONEY_SQL_TYPE})"
    if base in _FLOAT_TYPES:
        # a double such as 2.55 is not exactly 2.55: accept it when it is the nearest double to a
        # value with 4 decimals; a 5th decimal place would be rounded away silently otherwise
        ok = f"({value} is not null and abs({c} - cast({value} as double)) <= 1e-9 * greatest(1, abs({c})))"
    elif base == "DECIMAL":
        ok = f"({value} is not null and {value} = {c})"
    elif base == "VARCHAR":
        ok = f"(regexp_full_match({c}, '{_MONEY_TEXT}') and {value} is not null)"
    elif base in _INTEGER_TYPES:
        ok = f"({value} is not null)"
    else:
        raise ValueError(sql_type)
    return value, f"coalesce({ok}, false)", f"is not an amount with at most {MONEY_SCALE} decimals below 10^14"


def _text(c: str) -> tuple[str, str, str]:
    return f"cast({c} as varchar)", "true", ""


def _channel(c: str) -> tuple[str, str, str]:
    return f"lower(trim(cast({c} as varchar)))", "true", ""


def _flag(c: str, sql_type: str) -> tuple[str, str, str]:
    base = _base_type(sql_type)
    if base == "BOOLEAN":
        return c, "true", ""
    text = f"lower(trim(cast({c} as varchar)))"
    value = (
        f"case when {text} in ({', '.join(map(sql_string, _FLAG_TRUE))}) then true "
        f"when {text} in ({', '.join(map(sql_string, _FLAG_FALSE))}) then false end"
    )
    return value, f"({c} is null or {value} is not null)", "is not a flag (true/false, 1/0, yes/no)"


def _number(c: str, sql_type: str) -> tuple[str, str, str]:
    value = f"try_cast({c} as double)"
    ok = f"({c} is null or (isfinite({value})"
    if _base_type(sql_type) == "VARCHAR":
        ok += f" and regexp_full_match(trim({c}), '{_NUMBER_TEXT}')"
    return value, ok + "))", "is not a finite number"


def convert(source: SourceFile, field: str, kind: str, column: str, required: bool = False) -> Converted:
    """The canonical value of the user's ``column`` for a field of ``kind``."""
    c, sql_type = quote_column(column), source.types[column]
    mapping = source.mapping
    try:
        if kind == F_ID:
            parts = _id(c, sql_type, required)
        elif kind == F_TIMESTAMP:
            parts = _timestamp(c, sql_type, mapping)
        elif kind == F_DAY:
            parts = _day(c, sql_type, mapping)
        elif kind == F_INTEGER:
            parts = _integer(c, sql_type)
        elif kind == F_MONEY:
            parts = _money(c, sql_type)
        elif kind in (F_TEXT, F_CATEGORY):
            parts = _text(c)
        elif kind == F_CHANNEL:
            parts = _channel(c)
        elif kind == F_FLAG:
            parts = _flag(c, sql_type)
        elif kind == F_NUMBER:
            parts = _number(c, sql_type)
        else:
            raise AssertionError(kind)
    except ValueError:
        raise InputError(
            f"{mapping.label()}: {field}: column {column!r} of {source.name} has type {sql_type}, "
            f"which cannot hold {'an' if kind[0] in 'aeiou' else 'a'} {kind}"
        ) from None
    return Converted(field, column, *parts)
