"""Shared Python code of the loyalty warehouse: data generator, input checks, CLV,
segmentation, recommenders, evaluation and publishing. dbt Python models stay thin
and call into this package."""

__version__ = "0.1.0"
