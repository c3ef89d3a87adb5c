"""Turn a mart's declared rules into a validation plan for one warehouse: the SQL that
loads the mart (the columns the expectations read, plus ``chk_*`` columns computed in
DuckDB) and the list of expectations as :class:`ExpectationSpec`.

The rules come from the marts' dbt yml (:mod:`.dbt_rules`), plus what the yml does not
express (:mod:`.suites`). One function per rule family translates a :class:`Rule`:

===============================  ==========================================================
dbt rule                          expectation
===============================  ==========================================================
contract column (``data_type``)   ExpectColumnToExist
not_null (test or constraint)     ExpectColumnValuesToNotBeNull
unique                            ExpectColumnValuesToBeUnique
accepted_values                   ExpectColumnValuesToBeInSet
value_between (numbers)           ExpectColumnValuesToBeBetween (inclusive)
value_between (timestamps, SQL)   ``chk_<col>_within_bounds`` computed in DuckDB
unique_combination_of_columns     ExpectCompoundColumnsToBeUnique
ranks_without_gaps                ``chk_<col>_without_gap`` computed in DuckDB
sums_to_one                       ``chk_<col>_sums_to_one`` computed in DuckDB
relationships                     ``chk_<col>_in_<parent>`` computed in DuckDB
``config: where:``                GX ``row_condition`` on a ``row_filter_<n>`` column computed in DuckDB
===============================  ==========================================================

A ``chk_*`` column is expected to be all True (ExpectColumnValuesToBeInSet [True]). A rule
of another kind is reported in the plan's notices (and fails the test that every yml rule
becomes an expectation). No Great Expectations import here: planning is plain DuckDB +
Python, cheap and easy to test; :mod:`.runner` instantiates the expectations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .dbt_rules import ModelRules, Rule, load_mart_rules, parse_yml_text, ref_name
from .suites import EXTRA_RULES_BY_MART, NOT_YET_IN_DBT_YML, ExtraRules

MARTS_SCHEMA = "marts"
MIN_ROWS = 1  # every mart: not empty
# Types pandas/GX handle poorly (Decimal objects, 128-bit ints): validated as DOUBLE.
_CAST_TO_DOUBLE = ("DECIMAL", "HUGEINT", "UHUGEINT", "UBIGINT", "FLOAT", "REAL")
# GX's pandas range check is vectorised only for int64/float64; on int32 it calls a Python
# function per value (~2 s per 1M rows): small integers are validated as BIGINT.
_CAST_TO_BIGINT = ("INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT")
_TEMPORAL = ("TIMESTAMP", "DATE", "TIME")
# Lists/structs/maps only get presence and null rules: loaded as text, which pandas converts
# far faster than one numpy array per row.
_NESTED = ("[]", "STRUCT", "MAP", "UNION")


@dataclass(frozen=True)
class ExpectationSpec:
    type: str  # class name in great_expectations.expectations
    kwargs: dict
    description: str
    rule: Rule | None = None  # the declared rule it checks (None: structure or suites.py)
    row_filter: str | None = None  # boolean frame column: the expectation applies where it is True


@dataclass
class MartPlan:
    mart: str
    declared_in: str  # where the mart's rules come from
    sql: str
    key: tuple[str, ...]
    expectations: list[ExpectationSpec] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    row_count_equals: str | None = None


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value) -> str:
    return "'" + str(value).replace("'", "''") + "'" if isinstance(value, str) else str(value)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- declared rules -------------------------------------------------------------------------


def declared_marts(project_root: Path | None = None) -> dict[str, ModelRules]:
    """The marts' yml models, each with its rules from suites.NOT_YET_IN_DBT_YML appended."""
    marts = load_mart_rules(project_root)
    for name, pending in parse_yml_text(NOT_YET_IN_DBT_YML, "loyalty_analytics.validation.suites").items():
        model = marts.setdefault(name, ModelRules(name=name, source=pending.source))
        model.rules += [r for r in pending.rules if r not in model.rules]
    return marts


def primary_key(model: ModelRules) -> tuple[str, ...]:
    """The first unique rule: a model-level column combination, else a unique column."""
    for rule in model.rules:
        if rule.kind == "unique_combination_of_columns" and not rule.where:
            return tuple(rule.kwargs["combination_of_columns"])
    return next(((r.column,) for r in model.rules if r.kind == "unique" and not r.where), ())


# -- the database ---------------------------------------------------------------------------


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


# -- plan builder ---------------------------------------------------------------------------


@dataclass
class _Builder:
    """Accumulates one mart's expectations, the columns to load and the DuckDB-computed columns."""

    mart: str
    relations: dict[str, dict[str, str]]
    columns: dict[str, str]  # present columns -> duckdb type
    expectations: list[ExpectationSpec] = field(default_factory=list)
    loaded: list[str] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)  # "<sql> as <name>" select items
    notices: list[str] = field(default_factory=list)
    existence: set[str] = field(default_factory=set)  # columns with an ExpectColumnToExist
    n_filters: int = 0

    def expect(self, type_: str, kwargs: dict, description: str, rule: Rule | None = None) -> None:
        """A GX expectation; a rule's ``where`` becomes a row filter computed in DuckDB."""
        for col in [kwargs.get("column")] + list(kwargs.get("column_list") or []):
            if col in self.columns and col not in self.loaded:
                self.loaded.append(col)
        row_filter = self._row_filter(rule.where) if rule and rule.where else None
        self.expectations.append(ExpectationSpec(type_, kwargs, description, rule, row_filter))

    def require(self, *cols: str) -> bool:
        """Expect the columns to exist; True if they all do (rules on absent columns are left
        out: the failing ExpectColumnToExist reports them)."""
        for col in cols:
            if col not in self.existence:
                self.existence.add(col)
                self.expect("ExpectColumnToExist", {"column": col}, f"Column {col} exists.")
        return all(c in self.columns for c in cols)

    def compute_check(self, name: str, sql: str, description: str, rule: Rule | None = None) -> None:
        """A boolean computed per row in DuckDB (NULL counts as a violation), expected all True."""
        taken = {e.kwargs.get("column") for e in self.expectations}
        name = next(n for n in [name] + [f"{name}_{i}" for i in range(2, 100)] if n not in taken)
        self.computed.append(f"coalesce(({sql}), false) as {_q(name)}")
        self.expectations.append(
            ExpectationSpec("ExpectColumnValuesToBeInSet", {"column": name, "value_set": [True]}, description, rule)
        )

    def _row_filter(self, where: str) -> str:
        self.n_filters += 1
        name = f"row_filter_{self.n_filters}"
        self.computed.append(f"coalesce(({where}), false) as {_q(name)}")
        return name

    def temporal(self, col: str) -> bool:
        return self.columns[col].upper().startswith(_TEMPORAL)


def _where_note(rule: Rule) -> str:
    return f" (rows where {rule.where})" if rule.where else ""


# -- one function per rule family -----------------------------------------------------------


def _not_null(b: _Builder, rule: Rule) -> None:
    if b.require(rule.column):
        b.expect(
            "ExpectColumnValuesToNotBeNull",
            {"column": rule.column},
            f"{rule.column} is never null{_where_note(rule)}.",
            rule,
        )


def _unique(b: _Builder, rule: Rule) -> None:
    if b.require(rule.column):
        b.expect(
            "ExpectColumnValuesToBeUnique",
            {"column": rule.column},
            f"{rule.column} is unique{_where_note(rule)}.",
            rule,
        )


def _accepted_values(b: _Builder, rule: Rule) -> None:
    if b.require(rule.column):
        values = list(rule.kwargs["values"])
        b.expect(
            "ExpectColumnValuesToBeInSet",
            {"column": rule.column, "value_set": values},
            f"{rule.column} in {{{', '.join(map(str, values))}}} (nulls allowed){_where_note(rule)}.",
            rule,
        )


def _value_between(b: _Builder, rule: Rule) -> None:
    col = rule.column
    if not b.require(col):
        return
    lo, hi = rule.kwargs.get("min_value"), rule.kwargs.get("max_value")
    bounds = f"{lo if lo is not None else '-inf'}..{hi if hi is not None else 'inf'}"
    if b.temporal(col) or not all(_is_number(v) for v in (lo, hi) if v is not None):
        # Bounds are SQL (as dbt inlines them); GX's pandas range check on datetimes also
        # compares element by element in Python (~6 s per 1M rows): evaluate in DuckDB.
        conds = [f"m.{_q(col)} >= {lo}"] if lo is not None else []
        conds += [f"m.{_q(col)} <= {hi}"] if hi is not None else []
        sql = f"m.{_q(col)} is null or ({' and '.join(conds) or 'true'})"
        if rule.where:
            sql = f"not coalesce(({rule.where}), false) or {sql}"
        b.compute_check(
            f"chk_{col}_within_bounds", sql, f"{col} within {bounds}{_where_note(rule)} (evaluated in DuckDB).", rule
        )
        return
    kwargs = (
        {"column": col} | ({"min_value": lo} if lo is not None else {}) | ({"max_value": hi} if hi is not None else {})
    )
    b.expect("ExpectColumnValuesToBeBetween", kwargs, f"{col} within {bounds}{_where_note(rule)}.", rule)


def _unique_combination(b: _Builder, rule: Rule) -> None:
    combo = list(rule.kwargs["combination_of_columns"])
    if not b.require(*combo):
        return
    if len(combo) == 1:
        b.expect("ExpectColumnValuesToBeUnique", {"column": combo[0]}, f"{combo[0]} is unique.", rule)
        return
    # "never": NULLs take part, as in dbt's `group by` (model_metrics.k is NULL for non-top-k metrics)
    b.expect(
        "ExpectCompoundColumnsToBeUnique",
        {"column_list": combo, "ignore_row_if": "never"},
        f"({', '.join(combo)}) is unique{_where_note(rule)}.",
        rule,
    )


def _window_rule_supported(b: _Builder, rule: Rule, cols: list[str]) -> bool:
    if rule.where:  # dbt filters before the window; not worth supporting until a rule needs it
        b.notices.append(f"{b.mart}: rule {rule.label()} not translated (where on a group rule)")
        return False
    return b.require(*cols)


def _ranks_without_gaps(b: _Builder, rule: Rule) -> None:
    col = rule.column or rule.kwargs["column_name"]
    group = list(rule.kwargs["group_by"])
    if _window_rule_supported(b, rule, [col] + group):
        partition = ", ".join(f"m.{_q(g)}" for g in group)
        b.compute_check(
            f"chk_{col}_without_gap",
            f"m.{_q(col)} = row_number() over (partition by {partition} order by m.{_q(col)})",
            f"{col} runs 1..N without gaps per {' × '.join(group)}.",
            rule,
        )


def _sums_to_one(b: _Builder, rule: Rule) -> None:
    col = rule.column or rule.kwargs["column_name"]
    group = list(rule.kwargs["group_by"])
    tolerance = rule.kwargs.get("tolerance", 0.000001)
    if _window_rule_supported(b, rule, [col] + group):
        partition = ", ".join(f"m.{_q(g)}" for g in group)
        b.compute_check(
            f"chk_{col}_sums_to_one",
            f"abs(sum(m.{_q(col)}) over (partition by {partition}) - 1) <= {tolerance}",
            f"{col} sums to 1 per {' × '.join(group)} (|sum - 1| <= {tolerance}).",
            rule,
        )


def _relationships(b: _Builder, rule: Rule) -> None:
    col, field_ = rule.column, rule.kwargs["field"]
    parent_model = ref_name(rule.kwargs["to"])
    if parent_model is None:
        b.notices.append(f"{b.mart}: rule {rule.label()} not translated (only ref() parents are supported)")
        return
    name = f"chk_{col}_in_{parent_model}"
    parent = resolve_model(parent_model, b.relations)
    if not b.require(col):
        return
    if parent is None or field_ not in b.relations[parent]:
        b.notices.append(f"{b.mart}: check {name} skipped ({parent_model} absent)")
        return
    schema, table = parent.split(".", 1)
    sql = f"m.{_q(col)} is null or exists (select 1 from {_q(schema)}.{_q(table)} p where p.{_q(field_)} = m.{_q(col)})"
    if rule.where:
        sql = f"not coalesce(({rule.where}), false) or {sql}"
    b.compute_check(name, sql, f"{col} exists in {parent}.{field_}{_where_note(rule)}.", rule)


RULE_FAMILIES: dict[str, Callable[[_Builder, Rule], None]] = {
    "not_null": _not_null,
    "unique": _unique,
    "accepted_values": _accepted_values,
    "value_between": _value_between,
    "unique_combination_of_columns": _unique_combination,
    "ranks_without_gaps": _ranks_without_gaps,
    "sums_to_one": _sums_to_one,
    "relationships": _relationships,
}


# -- plan steps -----------------------------------------------------------------------------


def _plan_structure(b: _Builder, model: ModelRules) -> None:
    """Every column of an enforced contract exists (without a contract, the yml's column
    list is documentation: only columns with rules must exist); the mart is not empty."""
    for col in model.columns if model.contract_enforced else ():
        b.require(col)
    b.expect("ExpectTableRowCountToBeBetween", {"min_value": MIN_ROWS}, f"At least {MIN_ROWS} row(s).")


def _plan_declared_rules(b: _Builder, model: ModelRules) -> None:
    for rule in model.rules:
        family = RULE_FAMILIES.get(rule.kind)
        if family is None:
            b.notices.append(f"{b.mart}: rule {rule.label()} not translated (no expectation for {rule.kind})")
        else:
            family(b, rule)


def _plan_extra_checks(b: _Builder, extra: ExtraRules) -> None:
    """suites.py: regexes and row-level checks (possibly reading other relations)."""
    for col, pattern in extra.regex.items():
        if b.require(col):
            b.expect("ExpectColumnValuesToMatchRegex", {"column": col, "regex": pattern}, f"{col} matches {pattern}.")
    for check in extra.checks:
        missing = [c for c in check.columns if c not in b.columns]
        if missing:
            b.notices.append(f"{b.mart}: check {check.name} skipped (missing column(s) {', '.join(missing)})")
            continue
        variant = next((v for v in check.variants if all(r in b.relations for r in v.requires)), None)
        if variant is None:
            needs = " or ".join(", ".join(v.requires) for v in check.variants)
            b.notices.append(f"{b.mart}: check {check.name} skipped (needs {needs})")
            continue
        via = f" (via {', '.join(variant.requires)})" if variant.requires else ""
        b.compute_check(check.name, variant.sql, check.description + via)


def _plan_row_count(b: _Builder, extra: ExtraRules) -> str | None:
    other = extra.row_count_equals
    if not other:
        return None
    if f"{MARTS_SCHEMA}.{other}" not in b.relations:
        b.notices.append(f"{b.mart}: row count check skipped ({other} absent)")
        return None
    b.expect(
        "ExpectTableRowCountToEqual",
        {"value": {"$PARAMETER": f"{other}_row_count"}},
        f"Row count equals {other}'s (the customer base).",
    )
    return other


def _frame_sql(b: _Builder, key: tuple[str, ...]) -> str:
    for col in key:  # named in failure examples
        if col in b.columns and col not in b.loaded:
            b.loaded.append(col)
    select = [_select_expr(c, b.columns[c]) for c in b.loaded] + b.computed
    return f"select {', '.join(select or ['1 as _row'])} from {MARTS_SCHEMA}.{_q(b.mart)} m"


def _select_expr(column: str, dtype: str) -> str:
    upper = dtype.upper()
    if any(tag in upper for tag in _NESTED):
        return f"cast(m.{_q(column)} as varchar) as {_q(column)}"
    if upper.startswith(_CAST_TO_DOUBLE):
        return f"cast(m.{_q(column)} as double) as {_q(column)}"
    if upper in _CAST_TO_BIGINT:
        return f"cast(m.{_q(column)} as bigint) as {_q(column)}"
    return f"m.{_q(column)}"


def _with_coverage(b: _Builder, extra: ExtraRules, sql: str) -> str:
    """Append the parent's keys missing from the mart as rows whose coverage check is False."""
    cov = extra.coverage
    if cov is None:
        return sql
    if not (cov.parent in b.relations and cov.key in b.columns and cov.key in b.relations[cov.parent]):
        b.notices.append(f"{b.mart}: coverage check {cov.name} skipped ({cov.parent} absent)")
        return sql
    k = _q(cov.key)
    b.expectations.append(
        ExpectationSpec(
            "ExpectColumnValuesToBeInSet",
            {"column": cov.name, "value_set": [True]},
            cov.description + f" (missing {cov.key}s appear as rows with NULL columns)",
        )
    )
    return (
        f"select *, true as {_q(cov.name)} from ({sql}) base\n"
        f"union all by name\n"
        f"select p.{k}, false as {_q(cov.name)} from (select distinct {k} from {cov.parent}) p\n"
        f"where not exists (select 1 from {MARTS_SCHEMA}.{_q(b.mart)} m where m.{k} = p.{k})"
    )


def build_plan(
    mart: str, relations: dict[str, dict[str, str]], model: ModelRules | None, extra: ExtraRules | None = None
) -> MartPlan:
    """The plan of one present mart from its declared rules (`model`, None if the yml does
    not declare it) and the rules of suites.py (`extra`)."""
    b = _Builder(mart, relations, relations[f"{MARTS_SCHEMA}.{mart}"])
    sources = ([model.source] if model else []) + (["loyalty_analytics.validation.suites"] if extra else [])
    model = model or ModelRules(name=mart, source="")
    extra = extra or ExtraRules(mart=mart)
    if not sources:
        b.notices.append(f"{mart}: no declared suite (not in the marts' dbt yml): only checked not empty")
    _plan_structure(b, model)
    _plan_declared_rules(b, model)
    _plan_extra_checks(b, extra)
    row_count_equals = _plan_row_count(b, extra)
    key = tuple(c for c in primary_key(model) if c in b.columns)
    sql = _with_coverage(b, extra, _frame_sql(b, key))
    b.notices += [f"{mart}: {s} skipped" for s in model.skipped]
    return MartPlan(
        mart=mart,
        declared_in=" + ".join(sources) or "generic",
        sql=sql,
        key=key,
        expectations=b.expectations,
        notices=b.notices,
        row_count_equals=row_count_equals,
    )


def build_plans(
    con: duckdb.DuckDBPyConnection, only=None, declared: dict[str, ModelRules] | None = None
) -> tuple[list[MartPlan], list[str], dict[str, int]]:
    """Plans for every present mart (or the marts named in `only`), notices for declared
    marts that are absent, and the suite parameters (row counts of the marts other suites
    compare against)."""
    declared = declared if declared is not None else declared_marts()
    relations = present_relations(con)
    marts = present_marts(relations)
    wanted = list(dict.fromkeys(list(declared) + list(EXTRA_RULES_BY_MART) + marts))
    if only is not None:
        wanted = [m for m in wanted if m in set(only)] + sorted(set(only) - set(wanted))
    notices = [f"{name}: mart absent, suite skipped" for name in wanted if name not in marts]
    plans = [build_plan(m, relations, declared.get(m), EXTRA_RULES_BY_MART.get(m)) for m in marts if m in wanted]
    params: dict[str, int] = {}
    for name in {p.row_count_equals for p in plans if p.row_count_equals}:
        params[f"{name}_row_count"] = con.execute(f"select count(*) from {MARTS_SCHEMA}.{_q(name)}").fetchall()[0][0]
    return plans, notices, params


def load_frame(con: duckdb.DuckDBPyConnection, plan: MartPlan):
    """The pandas frame GX validates (via Arrow: ~10x faster than ``.df()``)."""
    return con.sql(plan.sql).to_arrow_table().to_pandas()
