# Rectify: one entry point for developers and CI.
#   make run    serve the demo on http://127.0.0.1:5000 (data kept between runs)
#   make lint   ruff (lint and format check), mypy and the import layers
#   make test   lint, then the whole test suite with coverage (SQLite; PostgreSQL when DATABASE_URL is set)
#   make test-shifted   the suite again with the machine's clock moved (CLOCK_SHIFT, libfaketime)
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Rebuilt only when the pins change, so a second `make setup` costs nothing.
INSTALLED := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
TRANSLATIONS := app/translations
POT := $(TRANSLATIONS)/messages.pot
PO_FILES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
PIP := $(BIN)/python -m pip --disable-pip-version-check
# Front-end packages (bpmn-js, ECharts) come from npm, pinned by package-lock.json, and are
# built with our assets/ into app/static/build/ (gitignored: content-hashed names and manifest.json,
# read by app/web/assets.py); both stamps make a second `make setup` free.
NODE_STAMP := node_modules/.installed
ASSETS_STAMP := app/static/build/.built
ASSET_SOURCES := $(shell find assets -type f)

# The import graph cache lives in the venv so the work tree stays clean.
LINT_IMPORTS := $(BIN)/lint-imports --no-logo --cache-dir $(VENV)/.import_linter_cache

export FLASK_APP := wsgi.py

# pytest-xdist: one worker per core, at most 4 (each holds its own database and Chromium); a
# file's tests stay on one worker. Each worker has its own database: a SQLite file, or on
# PostgreSQL DATABASE_URL's database with the worker's name appended (test_gw0, test_gw1, ...).
PYTEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n < 4 ? n : 4 )))
PYTEST := $(BIN)/pytest -q -n $(PYTEST_WORKERS) --dist loadfile
# make test measures coverage of app/ (pytest-cov, combined across the xdist workers): the files
# not fully covered and the total; the floor is set in pyproject.toml ([tool.coverage.report]).
PYTEST_COV := --cov=app --cov-report=term:skip-covered
# make test-shifted: how far libfaketime moves the clock of everything the suite starts (the app,
# its child processes, Chromium); faketime's syntax, a relative offset such as +400d or -30d.
CLOCK_SHIFT ?= +400d

.PHONY: help setup run test test-shifted check-chromium lint bench bench-sweep bench-escalation bench-dashboard bench-load translations clean

help:
	@echo "make setup         create .venv, install pinned Python and npm packages, build assets, compile translations"
	@echo "make run           migrate, deploy processes, seed the demo, serve on http://127.0.0.1:5000"
	@echo "make lint          ruff check, mypy, lint-imports, ruff format --check"
	@echo "make test          lint + pytest with coverage (set DATABASE_URL=postgresql+psycopg://... for PostgreSQL)"
	@echo "make test-shifted  pytest with the clock moved by CLOCK_SHIFT (default +400d; needs faketime)"
	@echo "make bench         run the benchmarks in bench/ (bench-sweep, bench-escalation, bench-dashboard: PostgreSQL ones)"
	@echo "make bench-load    20 clients on 20,000 units through gunicorn on PostgreSQL (BENCH_LOAD_UNITS=100000: the large one)"
	@echo "make translations  re-extract UI strings, merge into the catalogs, compile"
	@echo "make clean         remove the venv, compiled catalogs and caches (keeps instance/ data)"

setup: $(INSTALLED) $(MO_FILES) $(ASSETS_STAMP) instance

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(ASSETS_STAMP): $(NODE_STAMP) $(ASSET_SOURCES)
	npm run --silent build
	touch $@

$(INSTALLED): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python scripts/requirements.py > $(VENV)/requirements.txt
	$(PIP) install -q -c constraints.txt -r $(VENV)/requirements.txt
	touch $@

# Compiled catalogs are build output (.mo is gitignored); a .po edit recompiles only its own catalog.
%.mo: %.po | $(INSTALLED)
	$(BIN)/pybabel -q compile -i $< -o $@

instance:
	mkdir -p instance

run: setup
	@scripts/run.sh

# The checks that keep the code honest (configured in pyproject.toml and .importlinter; the same run
# by .pre-commit-config.yaml). Caches: .ruff_cache, .mypy_cache (gitignored), the venv's for imports.
lint: setup
	$(BIN)/ruff check --quiet .
	$(BIN)/mypy
	$(LINT_IMPORTS)
	$(BIN)/ruff format --check --output-format concise .

test: lint check-chromium
	@echo "pytest on $(if $(DATABASE_URL),PostgreSQL ($(DATABASE_URL)),SQLite), $(PYTEST_WORKERS) workers"
	$(PYTEST) $(PYTEST_COV)

# Tests start at a frozen instant (tests.support.BASE); this proves that nothing else they touch
# (child processes, Chromium, xdist workers) depends on the machine's date. The PostgreSQL server
# keeps its own clock, which is fine: the app never asks it the time. A relative offset keeps
# every process on one clock (faketime's absolute @date starts again in each new process).
test-shifted: setup check-chromium
	@command -v faketime >/dev/null || { \
	  echo "error: faketime not found: apt-get install -y faketime   (.ci/run does this for CI)" >&2; exit 1; }
	@echo "pytest on $(if $(DATABASE_URL),PostgreSQL ($(DATABASE_URL)),SQLite), $(PYTEST_WORKERS) workers," \
	  "clock shifted $(CLOCK_SHIFT): $$(faketime -f '$(CLOCK_SHIFT)' date -u '+%F %T UTC')"
	faketime -f '$(CLOCK_SHIFT)' $(PYTEST)

check-chromium:
	@test -x $(CHROMIUM) || { \
	  echo "error: $(CHROMIUM) not found; the browser tests need Debian's Chromium:" >&2; \
	  echo "       apt-get install -y chromium fonts-noto-cjk   (.ci/run does this for CI)" >&2; \
	  exit 1; }

bench: setup
	$(BIN)/python bench/launch.py
	$(BIN)/python bench/complete.py

# The sweep benchmark runs on PostgreSQL, in a database of its own that it empties first.
BENCH_SWEEP_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/bench_sweep
bench-sweep: setup
	createdb -h 127.0.0.1 -U postgres bench_sweep 2>/dev/null || true
	$(BIN)/python bench/sweep.py --database-url $(BENCH_SWEEP_URL) --instances 100000 --due 0
	$(BIN)/python bench/sweep.py --database-url $(BENCH_SWEEP_URL) --instances 100000 --due 100
	$(BIN)/python bench/sweep.py --database-url $(BENCH_SWEEP_URL) --instances 100000 --due 1000
	$(BIN)/python bench/sweep.py --database-url $(BENCH_SWEEP_URL) --instances 10000 --due 1000

# Escalation throughput: 3,000 overdue steps, all three rungs due (9,000 escalations), two scheduler
# processes at once; PostgreSQL, in a database of its own that it empties first.
BENCH_ESCALATION_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/bench_escalation
bench-escalation: setup
	createdb -h 127.0.0.1 -U postgres bench_escalation 2>/dev/null || true
	$(BIN)/python bench/escalation.py --database-url $(BENCH_ESCALATION_URL) --steps 3000 --workers 2

# The dashboard benchmark: 20,000 units on PostgreSQL, in a database of its own that it empties first.
BENCH_DASHBOARD_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/bench_dashboard
bench-dashboard: setup
	createdb -h 127.0.0.1 -U postgres bench_dashboard 2>/dev/null || true
	$(BIN)/python bench/dashboard.py --database-url $(BENCH_DASHBOARD_URL) --units 20000

# The load benchmark: a province-size campaign on PostgreSQL served by gunicorn (production config),
# 20 logged-in clients for 30 s; a database of its own, created if missing and emptied first. The
# seeded database is kept as a template (<name>_seed_<units>) so a second run skips the seeding.
BENCH_LOAD_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/bench_load
BENCH_LOAD_UNITS ?= 20000
BENCH_LOAD_SECONDS ?= 30
bench-load: setup
	$(BIN)/python bench/load.py --database-url $(BENCH_LOAD_URL) --units $(BENCH_LOAD_UNITS) \
	  --clients 20 --seconds $(BENCH_LOAD_SECONDS) --reuse

translations: $(INSTALLED)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --project=Rectify --version=0.1 -o $(POT) .
	$(BIN)/pybabel -q update -i $(POT) -d $(TRANSLATIONS) -l en --init-missing \
	  --ignore-obsolete --ignore-pot-creation-date --no-wrap --no-fuzzy-matching
	$(BIN)/pybabel -q compile -d $(TRANSLATIONS)
	@$(BIN)/python scripts/untranslated.py $(TRANSLATIONS)/en/LC_MESSAGES/messages.po

clean:
	rm -rf $(VENV) node_modules app/static/build .pytest_cache test-results .mypy_cache .ruff_cache .coverage .coverage.*
	find $(TRANSLATIONS) -name '*.mo' -delete
	find . -name __pycache__ -not -path './.git/*' -prune -exec rm -rf {} +
