"""The dbt context names our SQL uses beyond sqlfluff's dbt builtins, for sqlfluff's jinja
templater (``.sqlfluff``: ``library_path``; every public name here becomes a Jinja global).

sqlfluff's own ``var()`` returns the placeholder "item", so ``var('dataset') == 'lpoint'`` would
be false and the L.Point branches, the bulk of the project, would be linted only as
alternative variants; ``dataset_defaults()`` would even raise. Here ``var()`` answers from the
vars of dbt_project.yml, as dbt does for a default build. Not used by dbt itself.
"""

from __future__ import annotations

import datetime as _dt
import re as _re
from pathlib import Path as _Path
from types import SimpleNamespace as _Namespace

import yaml as _yaml

_PROJECT_VARS = _yaml.safe_load((_Path(__file__).resolve().parents[2] / "dbt_project.yml").read_text())["vars"]


def var(name, default=None):
    """dbt's var(): the project's value, else the default."""
    value = _PROJECT_VARS.get(name)
    return default if value is None else value


def env_var(name, default=""):
    return default


def _raise_compiler_error(message):
    raise RuntimeError(message)


exceptions = _Namespace(raise_compiler_error=_raise_compiler_error)
modules = _Namespace(re=_re, datetime=_dt)
run_started_at = _dt.datetime(2021, 12, 31, 23, 59, 59)
invocation_id = "00000000-0000-0000-0000-000000000000"
target = _Namespace(schema="main", name="dev", type="duckdb")
# dbt's parse phase: models that look at the data at compile time (run_query behind
# `if execute`) are linted with their parse-time SQL.
execute = False
