"""What the open warehouse holds: its relations and their column types, the published marts
(schema ``marts``), and the relation dbt built for a model name. Shared by the rule translation
(:mod:`.rule_expectations`) and the plan / frame building (:mod:`.frames`)."""

from __future__ import annotations

import duckdb

__all__ = ["MARTS_SCHEMA", "present_marts", "present_relations", "quoted", "resolve_model"]

MARTS_SCHEMA = "marts"


def quoted(name: str) -> str:
    """A DuckDB identifier in double quotes."""
    return '"' + name.replace('"', '""') + '"'


def present_relations(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """``{"schema.table": {column: duckdb type}}`` for every table and view of the open database."""
    rows = con.execute(
        """
        select c.table_schema, c.table_name, c.column_name, c.data_type
        from information_schema.columns c
        where c.table_catalog = current_database()
        order by c.table_schema, c.table_name, c.ordinal_position
        """
    ).fetchall()
    out: dict[str, dict[str, str]] = {}
    for schema, table, column, dtype in rows:
        out.setdefault(f"{schema}.{table}", {})[column] = dtype
    return out


def present_marts(relations: dict[str, dict[str, str]]) -> list[str]:
    prefix = MARTS_SCHEMA + "."
    return sorted(r[len(prefix) :] for r in relations if r.startswith(prefix))


def resolve_model(name: str, relations: dict[str, dict[str, str]]) -> str | None:
    """The schema-qualified relation dbt built for model `name` (marts first)."""
    candidates = [r for r in relations if r.split(".", 1)[1] == name]
    return f"{MARTS_SCHEMA}.{name}" if f"{MARTS_SCHEMA}.{name}" in candidates else next(iter(candidates), None)
