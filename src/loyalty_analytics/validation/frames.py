"""Turn a mart's declared rules into a validation plan for one warehouse: the SQL that
loads the mart (the columns the expectations read, plus ``chk_*`` columns computed in
DuckDB) and the list of expectations as :class:`~.rule_expectations.ExpectationSpec`.

The rules come from the marts' dbt yml (:mod:`.dbt_rules`), plus what the yml does not
express (:mod:`.suites`); :mod:`.rule_expectations` translates each declared rule, this module
adds the structure checks (contract columns, not empty), the suites' checks, row-count and
coverage checks, and builds the frame's SQL. No Great Expectations import here: planning is
plain DuckDB + Python, cheap and easy to test; :mod:`.runner` instantiates the expectations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from .dbt_rules import ModelRules, load_mart_rules, parse_yml_text
from .relations import MARTS_SCHEMA, present_marts, present_relations
from .relations import quoted as _q  # short: the SQL strings quote many names
from .rule_expectations import ExpectationSpec, PlanBuilder, plan_declared_rules
from .suites import EXTRA_RULES_BY_MART, NOT_YET_IN_DBT_YML, ExtraRules

# present_marts / present_relations (now in .relations) are still imported from here by publish.py
__all__ = [
    "MIN_ROWS",
    "MartPlan",
    "build_plan",
    "build_plans",
    "declared_marts",
    "load_frame",
    "present_marts",
    "present_relations",
    "primary_key",
]

MIN_ROWS = 1  # every mart: not empty
# Types pandas/GX handle poorly (Decimal objects, 128-bit ints): validated as DOUBLE.
_CAST_TO_DOUBLE = ("DECIMAL", "HUGEINT", "UHUGEINT", "UBIGINT", "FLOAT", "REAL")
# GX's pandas range check is vectorised only for int64/float64; on int32 it calls a Python
# function per value (~2 s per 1M rows): small integers are validated as BIGINT.
_CAST_TO_BIGINT = ("INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT")
# Lists/structs/maps only get presence and null rules: loaded as text, which pandas converts
# far faster than one numpy array per row.
_NESTED = ("[]", "STRUCT", "MAP", "UNION")


@dataclass
class MartPlan:
    mart: str
    declared_in: str  # where the mart's rules come from
    sql: str
    key: tuple[str, ...]
    expectations: list[ExpectationSpec] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    row_count_equals: str | None = None


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


# -- plan steps -----------------------------------------------------------------------------


def _plan_structure(b: PlanBuilder, model: ModelRules) -> None:
    """Every column of an enforced contract exists (without a contract, the yml's column
    list is documentation: only columns with rules must exist); the mart is not empty."""
    for col in model.columns if model.contract_enforced else ():
        b.require(col)
    b.expect("ExpectTableRowCountToBeBetween", {"min_value": MIN_ROWS}, f"At least {MIN_ROWS} row(s).")


def _plan_extra_checks(b: PlanBuilder, extra: ExtraRules) -> None:
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


def _plan_row_count(b: PlanBuilder, extra: ExtraRules) -> str | None:
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


def _frame_sql(b: PlanBuilder, key: tuple[str, ...]) -> str:
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


def _with_coverage(b: PlanBuilder, extra: ExtraRules, sql: str) -> str:
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
    b = PlanBuilder(mart, relations, relations[f"{MARTS_SCHEMA}.{mart}"])
    sources = ([model.source] if model else []) + (["loyalty_analytics.validation.suites"] if extra else [])
    model = model or ModelRules(name=mart, source="")
    extra = extra or ExtraRules(mart=mart)
    if not sources:
        b.notices.append(f"{mart}: no declared suite (not in the marts' dbt yml): only checked not empty")
    _plan_structure(b, model)
    plan_declared_rules(b, model)
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
