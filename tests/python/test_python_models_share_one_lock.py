"""dbt runs the Python models in threads of one process, and fits change process-wide numeric
state (torch seed / threads, BLAS thread limits). Every fitting call of the CLV and segmentation
models runs inside ``dbt_io.NUMERIC_WORK_LOCK``, the lock the recommenders' fits take too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from loyalty_analytics import dbt_io
from loyalty_analytics.recommenders import jobs

ROOT = Path(__file__).resolve().parents[2]
NUMERIC_MODELS = sorted((ROOT / "python_models" / "clv").glob("*.py")) + sorted(
    (ROOT / "python_models" / "segmentation").glob("*.py"))


def _calls_outside_lock(tree: ast.AST, packages: set[str]) -> list[str]:
    """Calls of ``<package>.<function>(...)`` that are not inside ``with dbt_io.NUMERIC_WORK_LOCK``."""
    locked: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any(ast.unparse(item.context_expr) == "dbt_io.NUMERIC_WORK_LOCK"
                                              for item in node.items):
            locked.update(id(inner) for inner in ast.walk(node))
    return [ast.unparse(node) for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name) and node.func.value.id in packages
            and id(node) not in locked]


def test_the_recommenders_use_the_same_lock():
    assert jobs._TORCH_LOCK is dbt_io.NUMERIC_WORK_LOCK


@pytest.mark.parametrize("path", NUMERIC_MODELS, ids=[p.stem for p in NUMERIC_MODELS])
def test_fits_run_inside_the_lock(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert _calls_outside_lock(tree, {"clv", "segmentation"}) == []


def test_the_check_finds_an_unlocked_fit():
    tree = ast.parse("def model(dbt, session):\n    with dbt_io.NUMERIC_WORK_LOCK:\n        a = clv.fit_clv(x)\n"
                     "    return clv.params_table(a)\n")
    assert _calls_outside_lock(tree, {"clv"}) == ["clv.params_table(a)"]
