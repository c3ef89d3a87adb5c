"""Translate a mart's declared rules into expectations: one function per rule family turns a
:class:`~.dbt_rules.Rule` into GX expectations (:class:`ExpectationSpec`) or into boolean
``chk_*`` / ``row_filter_*`` columns computed in DuckDB, accumulated per mart by a
:class:`PlanBuilder` (:mod:`.frames` turns that into the mart's plan and SQL frame):

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
becomes an expectation). No Great Expectations import here: :mod:`.runner` instantiates the
expectations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .dbt_rules import ModelRules, Rule, ref_name
from .relations import quoted as _q  # short: the SQL strings quote many names
from .relations import resolve_model

__all__ = ["RULE_FAMILIES", "ExpectationSpec", "PlanBuilder", "plan_declared_rules"]

_TEMPORAL = ("TIMESTAMP", "DATE", "TIME")


@dataclass(frozen=True)
class ExpectationSpec:
    type: str  # class name in great_expectations.expectations
    kwargs: dict
    description: str
    rule: Rule | None = None  # the declared rule it checks (None: structure or suites.py)
    row_filter: str | None = None  # boolean frame column: the expectation applies where it is True


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# -- the builder -----------------------------------------------------------------------------


@dataclass
class PlanBuilder:
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


def _not_null(b: PlanBuilder, rule: Rule) -> None:
    if b.require(rule.column):
        b.expect(
            "ExpectColumnValuesToNotBeNull",
            {"column": rule.column},
            f"{rule.column} is never null{_where_note(rule)}.",
            rule,
        )


def _unique(b: PlanBuilder, rule: Rule) -> None:
    if b.require(rule.column):
        b.expect(
            "ExpectColumnValuesToBeUnique",
            {"column": rule.column},
            f"{rule.column} is unique{_where_note(rule)}.",
            rule,
        )


def _accepted_values(b: PlanBuilder, rule: Rule) -> None:
    if b.require(rule.column):
        values = list(rule.kwargs["values"])
        b.expect(
            "ExpectColumnValuesToBeInSet",
            {"column": rule.column, "value_set": values},
            f"{rule.column} in {{{', '.join(map(str, values))}}} (nulls allowed){_where_note(rule)}.",
            rule,
        )


def _value_between(b: PlanBuilder, rule: Rule) -> None:
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


def _unique_combination(b: PlanBuilder, rule: Rule) -> None:
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


def _window_rule_supported(b: PlanBuilder, rule: Rule, cols: list[str]) -> bool:
    if rule.where:  # dbt filters before the window; not worth supporting until a rule needs it
        b.notices.append(f"{b.mart}: rule {rule.label()} not translated (where on a group rule)")
        return False
    return b.require(*cols)


def _ranks_without_gaps(b: PlanBuilder, rule: Rule) -> None:
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


def _sums_to_one(b: PlanBuilder, rule: Rule) -> None:
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


def _relationships(b: PlanBuilder, rule: Rule) -> None:
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


RULE_FAMILIES: dict[str, Callable[[PlanBuilder, Rule], None]] = {
    "not_null": _not_null,
    "unique": _unique,
    "accepted_values": _accepted_values,
    "value_between": _value_between,
    "unique_combination_of_columns": _unique_combination,
    "ranks_without_gaps": _ranks_without_gaps,
    "sums_to_one": _sums_to_one,
    "relationships": _relationships,
}


def plan_declared_rules(b: PlanBuilder, model: ModelRules) -> None:
    """Every declared rule through its family; a rule of another kind becomes a notice."""
    for rule in model.rules:
        family = RULE_FAMILIES.get(rule.kind)
        if family is None:
            b.notices.append(f"{b.mart}: rule {rule.label()} not translated (no expectation for {rule.kind})")
        else:
            family(b, rule)
