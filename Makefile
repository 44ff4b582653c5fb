# Onsite24: `make demo` runs the product with demo data, `make test` runs the test suite.
# Both install what is missing first (Debian/Ubuntu packages with sudo when not root, a virtualenv).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: demo demo-alarm test provision provision-services venv lint bench-solomon clean help

help:
	@echo "make demo   - install, migrate, seed the demo region and run API, board, gateway and worker"
	@echo "make demo-alarm - while the demo runs: a tower crane raises a critical alarm"
	@echo "make test   - install and run the whole test suite (real PostGIS and Mosquitto, started by the tests)"
	@echo "make lint   - ruff and the import contracts"

provision:
	VENV=$(VENV) scripts/provision.sh packages
	VENV=$(VENV) scripts/provision.sh venv

provision-services: provision
	VENV=$(VENV) scripts/provision.sh services

demo: provision-services
	set -a; source .onsite24/env; set +a; ONSITE24_ENVIRONMENT=demo $(VENV)/bin/onsite24 demo

# While `make demo` runs, in a second terminal: a tower crane raises a critical alarm (a major ticket in a second).
demo-alarm:
	set -a; source .onsite24/env; set +a; ONSITE24_ENVIRONMENT=demo $(VENV)/bin/onsite24 devices simulate \
		--devices 1 --faults crane-critical --provision --duration 5

test: provision
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

venv:
	VENV=$(VENV) scripts/provision.sh venv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
