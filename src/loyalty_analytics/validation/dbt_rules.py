"""The rules of the published marts as declared for dbt, read from the marts' yml files
(``models/marts/**/_*__models.yml``) with PyYAML.

Why the yml and not ``target/manifest.json``: the yml is always in the checkout, while a
manifest exists only after ``dbt parse``, lives in a per-data-folder target (``Layout.dbt_dir``)
and may be stale relative to the yml; validation also runs on warehouses no dbt run produced
(test fixtures). Parsing is a few milliseconds. The parser reads only names, data types,
constraints and tests, never descriptions, and accepts every spelling dbt accepts:
``data_tests:`` or ``tests:``; a test as a bare name or ``{name: {arguments: …, config: …}}``
or with its arguments inline (the pre-1.10 form) or as ``{test_name: …, …}``; YAML anchors
(PyYAML resolves them).

Each test becomes a :class:`Rule`; :mod:`.rule_expectations` turns rules into GX expectations.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import paths

MARTS_MODELS_GLOB = "models/marts/**/_*__models.yml"
_REF = re.compile(r"""^\s*(?:\{\{\s*)?ref\(\s*['"]([^'"]+)['"]\s*\)(?:\s*\}\})?\s*$""")
_TEST_KEYS = ("data_tests", "tests")


@dataclass(frozen=True)
class Rule:
    """One dbt test (or contract constraint) on a model."""

    kind: str  # test name without package prefix: not_null, unique, value_between, ...
    column: str | None  # the column it is declared on (None: a model-level test)
    args: tuple[tuple[str, object], ...] = ()  # test arguments, sorted, lists as tuples
    where: str | None = None  # config.where: the rule applies to rows matching this SQL
    origin: str = field(default="data_test", compare=False)  # or "constraint" (contract)

    @property
    def kwargs(self) -> dict:
        return dict(self.args)

    def label(self) -> str:
        args = ", ".join(f"{k}={_show(v)}" for k, v in self.args)
        on = f"{self.column}: " if self.column else ""
        where = f" where {self.where}" if self.where else ""
        return f"{on}{self.kind}({args}){where}"


@dataclass
class ModelRules:
    """A model's contract columns (name -> declared data type) and its rules."""

    name: str
    source: str  # the yml file it was read from, relative to the project
    columns: dict[str, str | None] = field(default_factory=dict)
    contract_enforced: bool = False
    rules: list[Rule] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # disabled or warn-only tests


def _show(value) -> str:
    return "[" + ", ".join(map(str, value)) + "]" if isinstance(value, tuple) else str(value)


def _frozen(value):
    """Lists to tuples (recursively) so rules are hashable and comparable."""
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _frozen(v)) for k, v in value.items()))
    return value


def _split_test(entry) -> tuple[str, dict, dict]:
    """A yml test entry -> (test name, arguments, config)."""
    if isinstance(entry, str):
        return entry, {}, {}
    if not isinstance(entry, dict):
        raise ValueError(f"unreadable test entry {entry!r}")
    if "test_name" in entry:  # legacy: {test_name: x, name: custom, <args>}
        body = {k: v for k, v in entry.items() if k not in ("test_name", "name")}
        name = entry["test_name"]
    elif len(entry) == 1:
        name, body = next(iter(entry.items()))
        body = body or {}
    else:
        raise ValueError(f"unreadable test entry {entry!r}")
    config = dict(body.get("config") or {})
    if "arguments" in body:
        args = dict(body["arguments"] or {})
    else:  # pre-1.10: arguments inline beside config/name/description
        args = {k: v for k, v in body.items() if k not in ("config", "name", "description", "meta", "tags")}
    for key in ("where", "severity", "enabled"):  # legacy: config keys at the top level
        if key in args and key not in config:
            config[key] = args.pop(key)
    return name.split(".")[-1], args, config


def _rule(entry, column: str | None, model: ModelRules) -> Rule | None:
    name, args, config = _split_test(entry)
    if config.get("enabled") is False:
        model.skipped.append(f"{column or model.name}: {name} (disabled)")
        return None
    if str(config.get("severity", "error")).lower() == "warn":
        model.skipped.append(f"{column or model.name}: {name} (severity warn: does not block a build)")
        return None
    if isinstance(args.get("to"), str) and ref_name(args["to"]):  # "{{ ref('x') }}" -> "ref('x')"
        args["to"] = f"ref('{ref_name(args['to'])}')"
    return Rule(kind=name, column=column, args=_frozen(args), where=config.get("where"))


def _constraint_rules(column: str, constraints) -> list[Rule]:
    """Contract constraints that are rules on values (not_null, unique, primary_key)."""
    kinds = {c.get("type") for c in constraints or [] if isinstance(c, dict)}
    out = []
    if kinds & {"not_null", "primary_key"}:
        out.append(Rule("not_null", column, origin="constraint"))
    if kinds & {"unique", "primary_key"}:
        out.append(Rule("unique", column, origin="constraint"))
    return out


def _model_constraint_rules(constraints) -> list[Rule]:
    """Model-level ``primary_key``/``unique`` constraints over a list of columns."""
    out = []
    for c in constraints or []:
        cols = tuple(c.get("columns") or ()) if isinstance(c, dict) else ()
        if c.get("type") in ("primary_key", "unique") and cols:
            out.append(
                Rule("unique_combination_of_columns", None, (("combination_of_columns", cols),), origin="constraint")
            )
        if c.get("type") == "primary_key":
            out += [Rule("not_null", col, origin="constraint") for col in cols]
    return out


def _tests(node: dict) -> list:
    return [t for key in _TEST_KEYS for t in (node.get(key) or [])]


def parse_model(node: dict, source: str) -> ModelRules:
    """One entry of a yml ``models:`` list."""
    model = ModelRules(name=node["name"], source=source)
    contract = (node.get("config") or {}).get("contract") or {}
    model.contract_enforced = bool(contract.get("enforced"))
    rules: list[Rule] = []
    for entry in _tests(node):
        rules.append(_rule(entry, None, model))
    rules += _model_constraint_rules(node.get("constraints"))
    for col in node.get("columns") or []:
        name = col["name"]
        model.columns[name] = col.get("data_type")
        rules += [_rule(entry, name, model) for entry in _tests(col)]
        rules += _constraint_rules(name, col.get("constraints"))
    model.rules = list(dict.fromkeys(r for r in rules if r is not None))  # drop duplicates (the first stays)
    return model


def parse_yml_text(text: str, source: str = "<string>") -> dict[str, ModelRules]:
    doc = yaml.safe_load(text) or {}
    return {m["name"]: parse_model(m, source) for m in doc.get("models") or []}


def load_mart_rules(project_root: Path | None = None) -> dict[str, ModelRules]:
    """Every model declared in the marts' ``_*__models.yml`` files, by name."""
    root = project_root or paths.PROJECT_ROOT
    out: dict[str, ModelRules] = {}
    for path in sorted(root.glob(MARTS_MODELS_GLOB)):
        out.update(parse_yml_text(path.read_text(), str(path.relative_to(root))))
    return out


def ref_name(value: str) -> str | None:
    """``ref('customer_rfm')`` (or ``{{ ref("x") }}``) -> ``customer_rfm``; None otherwise."""
    m = _REF.match(str(value))
    return m.group(1) if m else None
