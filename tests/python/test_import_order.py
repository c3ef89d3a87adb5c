"""The package imports torch and scipy.stats up front inside dbt (see loyalty_analytics/__init__),
so that no dbt Python model thread can see a half-imported torch; outside dbt it stays light."""

import subprocess
import sys

PROBE = """
import sys, types
{fake_dbt}
import loyalty_analytics
print(sorted(m for m in ("torch", "scipy.stats") if m in sys.modules))
"""


def _imported(inside_dbt: bool) -> str:
    fake = 'sys.modules["dbt.adapters.duckdb"] = types.ModuleType("dbt.adapters.duckdb")' if inside_dbt else ""
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(fake_dbt=fake)], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_inside_dbt_torch_and_scipy_are_complete_before_any_model_code():
    assert _imported(inside_dbt=True) == "['scipy.stats', 'torch']"


def test_outside_dbt_the_package_imports_nothing_heavy():
    assert _imported(inside_dbt=False) == "[]"
