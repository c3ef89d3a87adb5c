"""Turn a declared :class:`~.suites.MartSuite` into a validation plan for one warehouse:
the SQL that loads the mart (only the columns the suite needs, plus the ``chk_*`` check
columns) and the list of expectations as ``(class name, kwargs, description)``.

No Great Expectations import here: planning is plain DuckDB + Python, so it is cheap and
easy to test; :mod:`.runner` instantiates the expectations.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

import duckdb

from .suites import SUITES_BY_MART, MartSuite, generic_suite

MARTS_SCHEMA = "marts"
# Types pandas/GX handle poorly (Decimal objects, 128-bit ints): validated as DOUBLE.
_CAST_TO_DOUBLE = ("DECIMAL", "HUGEINT", "UHUGEINT", "UBIGINT")
_TEMPORAL = ("TIMESTAMP", "DATE", "TIME")


@dataclass(frozen=True)
class ExpectationSpec:
    type: str  # class name in great_expectations.expectations
    kwargs: dict
    description: str


@dataclass
class MartPlan:
    mart: str
    suite: MartSuite
    sql: str
    key: tuple[str, ...]
    expectations: list[ExpectationSpec] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)


def _q(name: str) -> str:
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
    return sorted(r[len(prefix):] for r in relations if r.startswith(prefix))


def _match(patterns, columns) -> list[str]:
    """Columns matching any pattern, in column order."""
    if isinstance(patterns, str):
        patterns = (patterns,)
    return [c for c in columns if any(fnmatch.fnmatchcase(c, p) for p in patterns)]


def _select_expr(column: str, dtype: str) -> str:
    if dtype.upper().startswith(_CAST_TO_DOUBLE):
        return f"cast(m.{_q(column)} as double) as {_q(column)}"
    return f"m.{_q(column)}"


def build_plan(mart: str, relations: dict[str, dict[str, str]]) -> MartPlan:
    suite = SUITES_BY_MART.get(mart) or generic_suite(mart)
    columns = relations[f"{MARTS_SCHEMA}.{mart}"]
    names = list(columns)
    exp: list[ExpectationSpec] = []
    notices: list[str] = []
    if mart not in SUITES_BY_MART:
        notices.append(f"{mart}: no declared suite, only generic checks (table not empty)")

    # -- structure -----------------------------------------------------------------
    for col in dict.fromkeys(suite.key + suite.required):
        exp.append(ExpectationSpec("ExpectColumnToExist", {"column": col}, f"Column {col} exists."))
    exp.append(ExpectationSpec("ExpectTableRowCountToBeBetween", {"min_value": suite.min_rows},
                               f"At least {suite.min_rows} row(s)."))
    used: list[str] = [c for c in dict.fromkeys(suite.key + suite.required) if c in columns]

    # -- key -----------------------------------------------------------------------
    for col in suite.key:
        if col in columns and col not in suite.nullable_key:
            exp.append(ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": col},
                                       f"Key column {col} is never null."))
    if suite.key and all(c in columns for c in suite.key):
        if len(suite.key) == 1:
            exp.append(ExpectationSpec("ExpectColumnValuesToBeUnique", {"column": suite.key[0]},
                                       f"Key {suite.key[0]} is unique."))
        else:
            exp.append(ExpectationSpec(
                "ExpectCompoundColumnsToBeUnique",
                {"column_list": list(suite.key), "ignore_row_if": "never"},
                f"Key ({', '.join(suite.key)}) is unique."))
    for combo in suite.unique:
        if all(c in columns for c in combo):
            used += [c for c in combo if c not in used]
            if len(combo) == 1:
                exp.append(ExpectationSpec("ExpectColumnValuesToBeUnique", {"column": combo[0]},
                                           f"{combo[0]} is unique."))
            else:
                exp.append(ExpectationSpec(
                    "ExpectCompoundColumnsToBeUnique",
                    {"column_list": list(combo), "ignore_row_if": "never"},
                    f"({', '.join(combo)}) is unique."))

    # -- column rules ----------------------------------------------------------------
    def use(col: str) -> None:
        if col not in used:
            used.append(col)

    for col in _match(suite.not_null, names):
        if col in suite.key:
            continue
        use(col)
        exp.append(ExpectationSpec("ExpectColumnValuesToNotBeNull", {"column": col},
                                   f"{col} is never null."))
    check_exprs: list[str] = []
    for pattern, (lo, hi) in suite.between.items():
        for col in _match(pattern, names):
            temporal = columns[col].upper().startswith(_TEMPORAL)
            if temporal != isinstance(lo if lo is not None else hi, str):
                notices.append(f"{mart}.{col}: range rule {pattern} skipped (type {columns[col]})")
                continue
            if temporal:
                # GX's pandas range check on datetimes compares element by element in Python
                # (~6 s per 1M rows): evaluate the bounds in DuckDB, expect all True.
                name = f"chk_{col}_within_bounds"
                conds = [f"m.{_q(col)} >= timestamp '{lo}'"] if lo is not None else []
                conds += [f"m.{_q(col)} <= timestamp '{hi}'"] if hi is not None else []
                check_exprs.append(f"(m.{_q(col)} is null or ({' and '.join(conds)})) as {_q(name)}")
                exp.append(ExpectationSpec("ExpectColumnValuesToBeInSet",
                                           {"column": name, "value_set": [True]},
                                           f"{col} within {lo or '-inf'}..{hi or 'inf'} (evaluated in DuckDB)."))
                continue
            use(col)
            kw = {"column": col}
            if lo is not None:
                kw["min_value"] = lo
            if hi is not None:
                kw["max_value"] = hi
            bounds = f"{lo if lo is not None else '-inf'}..{hi if hi is not None else 'inf'}"
            exp.append(ExpectationSpec("ExpectColumnValuesToBeBetween", kw, f"{col} within {bounds}."))
    for pattern, values in suite.in_set.items():
        for col in _match(pattern, names):
            use(col)
            exp.append(ExpectationSpec("ExpectColumnValuesToBeInSet",
                                       {"column": col, "value_set": list(values)},
                                       f"{col} in {{{', '.join(map(str, values))}}} (nulls allowed)."))
    for pattern, rx in suite.regex.items():
        for col in _match(pattern, names):
            use(col)
            exp.append(ExpectationSpec("ExpectColumnValuesToMatchRegex", {"column": col, "regex": rx},
                                       f"{col} matches {rx}."))

    # -- row-level cross checks -------------------------------------------------------
    for check in suite.checks:
        missing = [c for c in check.columns if c not in columns]
        if missing:
            notices.append(f"{mart}: check {check.name} skipped (missing column(s) {', '.join(missing)})")
            continue
        variant = next((v for v in check.variants if all(r in relations for r in v.requires)), None)
        if variant is None:
            needs = " or ".join(", ".join(v.requires) for v in check.variants)
            notices.append(f"{mart}: check {check.name} skipped (needs {needs})")
            continue
        check_exprs.append(f"coalesce(({variant.sql}), false) as {_q(check.name)}")
        via = f" (via {', '.join(variant.requires)})" if variant.requires else ""
        exp.append(ExpectationSpec("ExpectColumnValuesToBeInSet",
                                   {"column": check.name, "value_set": [True]},
                                   check.description + via))

    # -- row count consistency ----------------------------------------------------------
    if suite.row_count_equals:
        other = suite.row_count_equals
        if f"{MARTS_SCHEMA}.{other}" in relations:
            exp.append(ExpectationSpec("ExpectTableRowCountToEqual",
                                       {"value": {"$PARAMETER": f"{other}_row_count"}},
                                       f"Row count equals {other}'s (the customer base)."))
        else:
            notices.append(f"{mart}: row count check skipped ({other} absent)")

    select = [_select_expr(c, columns[c]) for c in used] + check_exprs
    if not select:  # generic suite: the row count is all we need
        select = ["1 as _row"]
    sql = f"select {', '.join(select)} from {MARTS_SCHEMA}.{_q(mart)} m"

    cov = suite.coverage
    if cov is not None:
        if cov.parent in relations and cov.key in columns and cov.key in relations[cov.parent]:
            k = _q(cov.key)
            sql = (
                f"select *, true as {_q(cov.name)} from ({sql}) base\n"
                f"union all by name\n"
                f"select p.{k}, false as {_q(cov.name)} from (select distinct {k} from {cov.parent}) p\n"
                f"where not exists (select 1 from {MARTS_SCHEMA}.{_q(mart)} m where m.{k} = p.{k})"
            )
            exp.append(ExpectationSpec("ExpectColumnValuesToBeInSet",
                                       {"column": cov.name, "value_set": [True]},
                                       cov.description + f" (missing {cov.key}s appear as rows with NULL columns)"))
        else:
            notices.append(f"{mart}: coverage check {cov.name} skipped ({cov.parent} absent)")

    return MartPlan(mart=mart, suite=suite, sql=sql, key=tuple(c for c in suite.key if c in columns),
                    expectations=exp, notices=notices)


def build_plans(con: duckdb.DuckDBPyConnection, only=None) -> tuple[list[MartPlan], list[str], dict[str, int]]:
    """Plans for every present mart (or the marts named in `only`), notices for declared
    suites whose mart is absent, and the suite parameters (row counts of the marts other
    suites compare against)."""
    relations = present_relations(con)
    marts = present_marts(relations)
    wanted = list(SUITES_BY_MART) + [m for m in marts if m not in SUITES_BY_MART]
    if only is not None:
        wanted = [m for m in wanted if m in set(only)]
        unknown = set(only) - set(wanted) - set(marts)
        wanted += sorted(unknown)
    notices = [f"{name}: mart absent, suite skipped" for name in wanted if name not in marts]
    plans = [build_plan(m, relations) for m in marts if m in wanted]
    params: dict[str, int] = {}
    for name in {p.suite.row_count_equals for p in plans if p.suite.row_count_equals}:
        if name in marts:
            params[f"{name}_row_count"] = con.execute(
                f"select count(*) from {MARTS_SCHEMA}.{_q(name)}").fetchall()[0][0]
    return plans, notices, params


def load_frame(con: duckdb.DuckDBPyConnection, plan: MartPlan):
    """The pandas frame GX validates (via Arrow: ~10x faster than ``.df()``)."""
    return con.sql(plan.sql).to_arrow_table().to_pandas()
