# Public interface (README): make demo | make test | make data | make bench | make docs
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

DATASET ?= lpoint
CUSTOMERS ?= 3000
SEED ?= 42

export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export GX_ANALYTICS_ENABLED := False
export DBT_PROFILES_DIR := $(CURDIR)/profiles

.PHONY: demo test data bench docs validate setup clean

setup: $(STAMP)

# The virtualenv is (re)built when the pins change.
$(STAMP): requirements.txt pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

## Set up, generate demo data if data/raw is empty, build, validate and publish.
demo: $(STAMP)
	$(PY) -m loyalty_analytics.pipeline --dataset $(DATASET) --customers $(CUSTOMERS) --seed $(SEED)

## Generate raw files into data/raw/ and ground truth into data/truth/.
data: $(STAMP)
	$(PY) -m loyalty_analytics.generator --customers $(CUSTOMERS) --seed $(SEED)

## Unit tests, then an end-to-end build + validation of a small generated warehouse.
test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m bench.run --customers $(or $(BENCH_CUSTOMERS),30000)

docs: $(STAMP)
	$(VENV)/bin/dbt docs generate --project-dir . --profiles-dir profiles

validate: $(STAMP)
	$(PY) -m loyalty_analytics.validation

clean:
	rm -rf target logs data/prepared* data/published* data/*.duckdb
