# Regroup: `make run` sets up and serves the demo; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install run test lint pg-test bench clean browser-deps js

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

run: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo
	@echo "Staff API token for coordinator@demo.regroup.test (the last line):"
	@$(FLASK) staff token coordinator@demo.regroup.test | tail -n 1
	@echo
	@echo "Regroup is starting on http://$(HOST):$(PORT)  (Ctrl-C stops it)"
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)} REGROUP_RUN_JOBS_IN_WEB=1 $(FLASK) run --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .

# The browser tests drive Debian's chromium; install it once when missing (root),
# otherwise say what to do. Idempotent: does nothing when it is there.
CHROMIUM ?= /usr/bin/chromium
browser-deps:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = "0" ]; then \
		echo "== installing chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "The browser tests need Debian's chromium at $(CHROMIUM)."; \
		echo "Install it with: sudo apt-get update && sudo apt-get install -y chromium"; \
		exit 1; \
	fi

# ical.js (Thunderbird's parser) for the feed cross-parser tests; CI=true makes its absence fail
JS := tests/js/node_modules/.installed
$(JS): tests/js/package.json tests/js/package-lock.json
	npm install --prefix tests/js --no-audit --no-fund
	touch $@

js: $(JS)

# SQLite always; PostgreSQL too when TEST_DATABASE_URL is set (REQUIRE_POSTGRES=1 makes
# a missing PostgreSQL a failure instead of a skip). The two passes run side by side
# (one core each); the PostgreSQL pass's output follows the SQLite one's.
PG_TESTS := tests/integration tests/api tests/web tests/journeys
test: install lint browser-deps $(JS)
	@$(BIN)/python -c "from scheduler.app import create_app; create_app()"  # instance/ once
	@if [ -z "$$TEST_DATABASE_URL" ] && [ "$$REQUIRE_POSTGRES" = "1" ]; then \
		echo "REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set"; exit 1; fi
	@pglog=$$(mktemp); pg=0; pid=; \
	if [ -n "$$TEST_DATABASE_URL" ]; then \
		REGROUP_TEST_DATABASE_URL="$$TEST_DATABASE_URL" $(BIN)/pytest -q -p no:cacheprovider \
			-m "not browser" $(PG_TESTS) > $$pglog 2>&1 & pid=$$!; \
	fi; \
	echo "== SQLite (browser tests included)"; \
	$(BIN)/pytest -q -p no:cacheprovider; sqlite=$$?; \
	if [ -n "$$pid" ]; then \
		wait $$pid; pg=$$?; \
		echo "== PostgreSQL ($$TEST_DATABASE_URL)"; cat $$pglog; \
	else echo "(PostgreSQL pass skipped: set TEST_DATABASE_URL to run it)"; fi; \
	rm -f $$pglog; \
	[ $$sqlite -eq 0 ] && [ $$pg -eq 0 ]

bench: install
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache
