"""Great Expectations validation of the published marts.

- :mod:`.suites`   the suites, declared as data (one per mart)
- :mod:`.frames`   suite -> SQL frame + expectation list for one warehouse
- :mod:`.runner`   GX file context in ``gx/``, checkpoint, Data Docs
- :mod:`.report`   result data + readable summary
- :mod:`.synthetic` synthetic marts that pass every suite (tests, timing)

CLI: ``python -m loyalty_analytics.validation [--warehouse PATH]`` (exit 1 on failure).
"""

import os

os.environ["GX_ANALYTICS_ENABLED"] = "False"  # before anything imports great_expectations

from .report import Failure, MartResult, ValidationReport, format_summary  # noqa: E402
from .runner import data_docs_index, gx_dir, validate_connection, validate_warehouse  # noqa: E402
from .suites import SUITES, SUITES_BY_MART  # noqa: E402

__all__ = [
    "Failure", "MartResult", "ValidationReport", "format_summary", "data_docs_index", "gx_dir",
    "validate_connection", "validate_warehouse", "SUITES", "SUITES_BY_MART",
]
