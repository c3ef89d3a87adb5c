"""Benchmark harness (`make bench`) and the pandas peer; not part of the product package."""
