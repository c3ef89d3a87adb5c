"""Great Expectations validation of the published marts.

- :mod:`.dbt_rules` the marts' rules as declared for dbt (models/marts/**/_*__models.yml)
- :mod:`.suites`   the rules dbt yml does not declare (cross-mart checks, ...)
- :mod:`.relations` the warehouse's relations and column types, the marts present
- :mod:`.rule_expectations` one declared rule -> expectations / DuckDB-computed checks
- :mod:`.frames`   rules -> SQL frame + expectation list per mart, for one warehouse
- :mod:`.runner`   GX file context in ``gx/``, checkpoint, Data Docs
- :mod:`.report`   result data + readable summary

CLI: ``python -m loyalty_analytics.validation [--warehouse PATH]`` (exit 1 on failure).
"""

import os

os.environ["GX_ANALYTICS_ENABLED"] = "False"  # before anything imports great_expectations

from .report import Failure, MartResult, ValidationReport, format_summary  # noqa: E402
from .runner import data_docs_index, gx_dir, validate_connection, validate_warehouse  # noqa: E402
from .suites import EXTRA_RULES, EXTRA_RULES_BY_MART  # noqa: E402

__all__ = [
    "Failure",
    "MartResult",
    "ValidationReport",
    "format_summary",
    "data_docs_index",
    "gx_dir",
    "validate_connection",
    "validate_warehouse",
    "EXTRA_RULES",
    "EXTRA_RULES_BY_MART",
]
