"""Input preflight ("ingest"): checks the raw input files before dbt reads them.

    python -m loyalty_analytics.ingest [--dataset lpoint|cdnow|cdnow_sample]
                                       [--raw-dir DIR] [--out DIR]

What a dataset's files look like (names, columns, kinds, SQL types, known codes, period) is
declared once in :mod:`loyalty_analytics.contract`; the dbt sources are generated from it.

For ``lpoint`` (the six LPOINT_BIG_COMP files) every file is checked for

* presence, emptiness (0 bytes / header only),
* encoding: UTF-8 (a BOM is stripped) or CP949 (transcoded to UTF-8); anything else stops
  (``encoding``),
* the exact header (names and order), CSV structure (field count per row) and the kind of
  every typed column, set-based in DuckDB, with 1-based line numbers (header = line 1) taken
  from the file order (``checks``),
* codes that join files (cust, rct_no, cop_c, br_c, pd_c) without leading/trailing spaces,
* the key of each dimension file (DEMO cust, PD_CLAC pd_c, BR br_c) filled in and unique.

Problems that make the data unreadable or ambiguous raise :class:`InputError` naming file,
line and column; the CLI prints the message and exits with code 2. Rows that parse but carry
bad *data* (duplicates, unknown codes, non-positive or implausible amounts, dates outside the
period, orphan L.Pay payments) pass to dbt, where staging quarantines them (some are counted
here too, ``lpoint``). See ``docs/bad_input.md``.

The checked files land in the output directory under their original names: a symlink to
the raw file when it is already clean UTF-8 without BOM, otherwise a UTF-8 copy. A
``_ingest_report.json`` records files, rows, encoding, bytes and seconds (``preflight``).

For ``cdnow`` / ``cdnow_sample`` the CDNOW logs shipped inside the ``lifetimes`` package are
converted into the contract's CDNOW transactions table (one CSV) and their published
customer / transaction counts are asserted (``cdnow``).
"""

from .cdnow import cdnow_source
from .cli import main
from .errors import InputError
from .preflight import REPORT_NAME, prepare

__all__ = ["REPORT_NAME", "InputError", "cdnow_source", "main", "prepare"]
