"""Shared Python code of the loyalty warehouse: data generator, input checks, CLV,
segmentation, recommenders, evaluation and publishing. dbt Python models stay thin
and call into this package."""

import sys

__version__ = "0.1.0"

# dbt runs the Python models in threads of one process. scipy probes sys.modules["torch"] (its
# array-API checks, at import and on calls) and fails on a torch module another thread is still
# importing ("partially initialized module 'torch' has no attribute 'Tensor'"). Inside dbt every
# model imports this package first, and other threads wait until this block is done: torch and
# scipy.stats are complete before any model code runs. Outside dbt nothing heavy is imported.
if "dbt.adapters.duckdb" in sys.modules:
    import scipy.stats  # noqa: F401
    import torch  # noqa: F401
