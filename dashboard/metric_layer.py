"""The dashboard's KPIs from the MetricFlow definitions, so a KPI is defined once.

The metrics live in ``models/marts/semantic/_semantic__models.yml`` (docs/metrics.md). MetricFlow
itself needs the dbt project, its semantic manifest and the build file; the dashboard reads only
the published release. So this module compiles the one shape the Overview needs — a simple or
ratio metric over one semantic model, without group-by — to a SQL aggregate on ``marts.<mart>``
of the release. tests/python/test_metrics_layer.py checks that each compiled metric equals
MetricFlow's answer on the same build; a definition this module cannot compile raises
``Unsupported`` instead of guessing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SEMANTIC_YML = PROJECT_ROOT / "models" / "marts" / "semantic" / "_semantic__models.yml"

# MetricFlow's aggregations as SQL; count_distinct and average are not additive, but a metric
# here is always computed over the whole mart in one aggregate, so that does not matter.
_AGGREGATES = {
    "sum": "sum({})",
    "count": "count({})",
    "count_distinct": "count(distinct {})",
    "average": "avg({})",
    "min": "min({})",
    "max": "max({})",
    "sum_boolean": "sum(cast({} as integer))",
}
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where built: ~10x faster
_REF = re.compile(r"""^\s*ref\(\s*['"]([\w]+)['"]\s*\)\s*$""")
_DIMENSION = re.compile(r"""\{\{\s*Dimension\(\s*['"](\w+?)__(\w+)['"]\s*\)\s*\}\}""")


class Unsupported(ValueError):
    """A metric whose definition this module does not compile (MetricFlow still can)."""


@dataclass(frozen=True)
class Measure:
    name: str
    mart: str  # the published mart the semantic model reads
    entity: str  # the semantic model's primary entity (names its dimensions in filters)
    sql: str  # the aggregate over one row of the mart


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    description: str
    mart: str
    sql: str  # one aggregate expression over marts.<mart>


def _primary_entity(model: dict) -> str:
    primary = [e["name"] for e in model.get("entities") or [] if e.get("type") == "primary"]
    return model.get("primary_entity") or (primary[0] if primary else model["name"])


def _dimension_exprs(model: dict) -> dict[str, str]:
    return {d["name"]: d.get("expr") or d["name"] for d in model.get("dimensions") or []}


def _filter_sql(where: str | list | None, entity: str, dimensions: dict[str, str]) -> str | None:
    """A metric filter (``{{ Dimension('entity__name') }} = 1``, or a list of them, all holding)
    as SQL on the mart's columns."""
    if not where:
        return None
    if isinstance(where, list):
        parts = [_filter_sql(w, entity, dimensions) for w in where]
        return " and ".join(f"({p})" for p in parts if p) or None

    def column(match: re.Match) -> str:
        if match.group(1) != entity or match.group(2) not in dimensions:
            raise Unsupported(f"filter on {match.group(0)} is not a dimension of the metric's own mart")
        return f"({dimensions[match.group(2)]})"

    sql = _DIMENSION.sub(column, where)
    if "{{" in sql:
        raise Unsupported(f"filter {where!r} uses more than Dimension()")
    return sql


def _measures(doc: dict) -> dict[str, tuple[Measure, dict]]:
    """The measures this module compiles, by name. One with an aggregation outside _AGGREGATES
    (percentile), aggregation parameters or a non-additive dimension (a MetricFlow semantics of
    its own), or on a semantic model that does not read a ref(), is left out."""
    out = {}
    for model in doc.get("semantic_models") or []:
        ref = _REF.match(model["model"])
        for measure in model.get("measures") or []:
            plain = not (measure.get("agg_params") or measure.get("non_additive_dimension"))
            if ref and plain and measure["agg"] in _AGGREGATES:
                sql = _AGGREGATES[measure["agg"]].format(measure.get("expr") or measure["name"])
                out[measure["name"]] = (Measure(measure["name"], ref.group(1), _primary_entity(model), sql), model)
    return out


def _filtered(measure: Measure, model: dict, where: list) -> str:
    conditions = [c for c in (_filter_sql(w, measure.entity, _dimension_exprs(model)) for w in where) if c]
    if not conditions:
        return measure.sql
    return f"{measure.sql} filter (where {' and '.join(conditions)})"


def _compile(name: str, metrics: dict[str, dict], measures: dict, extra_filter=None) -> Metric:
    spec = metrics[name]
    params = spec.get("type_params") or {}
    label, description = spec.get("label") or name, " ".join(str(spec.get("description") or "").split())
    if spec["type"] == "simple":
        measure_name = _input_name(params["measure"])
        if measure_name not in measures:
            raise Unsupported(f"metric {name}: measure {measure_name} is not compiled here")
        measure, model = measures[measure_name]
        sql = _filtered(measure, model, [spec.get("filter"), extra_filter])
        return Metric(name, label, description, measure.mart, sql)
    if spec["type"] == "ratio":
        if extra_filter:
            raise Unsupported(f"ratio metric {name} inside a ratio metric")
        numerator = _compile(_input_name(params["numerator"]), metrics, measures, spec.get("filter"))
        denominator = _compile(_input_name(params["denominator"]), metrics, measures, spec.get("filter"))
        if numerator.mart != denominator.mart:
            raise Unsupported(f"ratio metric {name} divides metrics of two marts")
        sql = f"cast({numerator.sql} as double) / nullif({denominator.sql}, 0)"
        return Metric(name, label, description, numerator.mart, sql)
    raise Unsupported(f"metric {name}: type {spec['type']}")


def _input_name(value) -> str:
    """A metric's measure or a ratio's metric, given as a name or as {name: …}; one with settings
    of its own (filter, fill_nulls_with, join_to_timespine, alias) is not compiled here."""
    if isinstance(value, dict):
        if set(value) != {"name"}:
            raise Unsupported(f"input {value} carries its own settings")
        return value["name"]
    return value


@cache
def definitions(path: Path = SEMANTIC_YML) -> dict[str, Metric]:
    """Every metric of the semantic layer this module can compile, by name."""
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}
    metrics = {m["name"]: m for m in doc.get("metrics") or []}
    measures = _measures(doc)
    out = {}
    for name in metrics:
        try:
            out[name] = _compile(name, metrics, measures)
        except Unsupported:
            continue  # left to MetricFlow (e.g. a cross-mart ratio); the dashboard does not use it
    return out


def metric(name: str) -> Metric:
    found = definitions().get(name)
    if found is None:
        raise Unsupported(f"metric {name!r} is not defined or not compiled for the dashboard")
    return found


def queries(names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """One SQL statement per mart computing the named metrics (columns named after them)."""
    by_mart: dict[str, list[Metric]] = {}
    for name in names:
        m = metric(name)
        by_mart.setdefault(m.mart, []).append(m)
    return {
        mart: "select " + ", ".join(f"{m.sql} as {m.name}" for m in group) + f" from marts.{mart}"
        for mart, group in by_mart.items()
    }
