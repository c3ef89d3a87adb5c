# Public interface (README): make demo | make test | make data | make bench | make docs | make sql | make publish
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
export DBT_PROFILES_DIR := $(CURDIR)

.PHONY: demo test data bench docs validate setup clean publish sql

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
	$(PY) -m loyalty_analytics.pipeline --dataset $(DATASET) --customers $(CUSTOMERS) --seed $(SEED) \
		$(if $(SOURCE_DIR),--source-dir $(SOURCE_DIR))

## Generate raw files into data/raw/ and ground truth into data/truth/.
data: $(STAMP)
	$(PY) -m loyalty_analytics.generator --customers $(CUSTOMERS) --seed $(SEED)

## Unit tests, then an end-to-end build + validation of a small generated warehouse.
test: $(STAMP) lint
	$(PY) -m pytest -q

## Apache Superset 6.1 (own virtualenv .venv-bi/, ~885 MB) reading the published marts through its
## REST API, also during a rebuild; see docs/bi.md. Not part of `make test`.
BI_VENV := .venv-bi
BI_STAMP := $(BI_VENV)/.installed

.PHONY: test-bi
test-bi: $(STAMP) $(BI_STAMP)
	LOYALTY_BI_VENV=$(CURDIR)/$(BI_VENV) $(PY) -m pytest -q tests/bi

# Superset's pins clash with the project's, hence a virtualenv of its own, rebuilt from scratch
# when requirements-bi.txt (a full lock) changes.
$(BI_STAMP): requirements-bi.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	rm -rf $(BI_VENV)
	$(PYTHON) -m venv $(BI_VENV)
	$(BI_VENV)/bin/python -m pip install --quiet -r requirements-bi.txt
	@touch $(BI_STAMP)

## Lint: ruff (check + format, pyproject.toml) and sqlfluff (.sqlfluff: duckdb, dbt's Jinja, lower case).
.PHONY: lint lint-python lint-sql
lint: lint-python lint-sql

lint-python: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

lint-sql: $(STAMP)
	$(VENV)/bin/sqlfluff lint models macros tests/generic

bench: $(STAMP)
	$(PY) -m bench.run --customers $(or $(BENCH_CUSTOMERS),30000)

## dbt docs as one offline HTML file (manifest and catalog inlined; no server needed).
docs: $(STAMP)
	$(VENV)/bin/dbt docs generate --static
	@echo "dbt docs (one offline file): $(CURDIR)/target/static_index.html"

validate: $(STAMP)
	$(PY) -m loyalty_analytics.validation

## The analysts' dashboard (Streamlit) on http://127.0.0.1:$(PORT), reading the published release:
## data/published (DATASET=cdnow: data/published_cdnow), or LOYALTY_PUBLISHED_DIR.
PORT ?= 8501
DASHBOARD_DIR = $(or $(LOYALTY_PUBLISHED_DIR),data/published$(if $(filter-out lpoint,$(DATASET)),_$(DATASET)))
.PHONY: dashboard
dashboard: $(STAMP)
	@echo "Dashboard: http://127.0.0.1:$(PORT)  (release folder $(DASHBOARD_DIR); Ctrl-C stops it)"
	$(PY) -m streamlit run dashboard/app.py --server.address 127.0.0.1 --server.port $(PORT) \
		--server.headless true --browser.gatherUsageStats false --client.toolbarMode viewer \
		--server.fileWatcherType none -- --published-dir $(DASHBOARD_DIR)

clean:
	rm -rf target logs data/prepared* data/published* data/*.duckdb

## Validate and publish the build file again, e.g. after a hand-run `dbt build` (the pipeline's
## validate + publish stage only; DATASET picks the build file and release folder as in make demo).
publish: $(STAMP)
	$(PY) -m loyalty_analytics.pipeline.publish_only --dataset $(DATASET)

## A duckdb shell (duckdb-cli, requirements.txt) on the published release, read-only; the release
## folder as for make dashboard. Queries may also come on stdin: echo 'select 42' | make -s sql
RELEASE_DB = $(DASHBOARD_DIR)/current/loyalty_marts.duckdb
sql: $(STAMP)
	@test -f $(RELEASE_DB) || { echo "no published release at $(RELEASE_DB): run make demo, or make publish after dbt build" >&2; exit 1; }
	@if [ -t 0 ]; then echo "duckdb on $(RELEASE_DB) (read-only; .quit ends it)"; fi
	@$(VENV)/bin/duckdb -readonly $(RELEASE_DB)
