# The two commands of the README: `make run` and `make test` (`make test-fast` while working).
VENV ?= .venv
# Python 3.12 or newer: under 3.11 the garbage collector crashed a worker serving pages on
# several threads at once (tests/test_concurrency.py). The first of these that runs and is new
# enough makes the .venv; pyenv's shims answer only for the versions pyenv selected, so its
# installations are tried as well.
PYTHON_CANDIDATES := python3.12 python3.13 python3 \
	$(wildcard $(or $(PYENV_ROOT),$(HOME)/.pyenv)/versions/3.1[2-9]*/bin/python3)
PYTHON ?= $(firstword $(foreach python,$(PYTHON_CANDIDATES),$(shell $(python) -c \
	'import sys; sys.version_info >= (3, 12) and print(sys.executable)' 2>/dev/null)))
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app market
HOST ?= 127.0.0.1
PORT ?= 5000
# One process with threads keeps the in-memory rate limits whole; with MARKET_REDIS_URL set,
# WORKERS may be raised.
WORKERS ?= 1
THREADS ?= 8

.PHONY: run serve test test-fast install install-test assets vendor-js lint translations bench lighthouse clean

$(BIN)/activate:
	@test -n "$(PYTHON)" || { echo "Pasar needs Python 3.12 or newer: none was found." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml package.json | $(BIN)/activate
	$(BIN)/pip install -q -e '.[test]'
	@# axe-core for the browser tests' accessibility checks, Lighthouse for `make lighthouse`.
	if command -v npm >/dev/null; then npm install --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: browser tests will be skipped"; fi
	touch $(VENV)/.installed $@

install: $(VENV)/.installed assets

install-test: $(VENV)/.installed-test assets

# Compiled translations and fingerprinted, pre-compressed static files (both git-ignored).
assets:
	$(BIN)/pybabel compile -d market/translations >/dev/null
	$(FLASK) digest clean >/dev/null
	$(FLASK) digest compile >/dev/null

# Third-party browser files for the back office's offline support (Workbox in the service worker,
# idb-keyval for drafts and the outbox), copied from node_modules and committed, so that `make run`
# needs no npm. After changing their versions in package.json: `make vendor-js`, then commit.
VENDOR_JS := market/static/vendor
WORKBOX_MODULES := core routing strategies expiration
vendor-js:
	npm install --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR_JS)
	@# Source maps are not shipped: drop the comments that point at them.
	for name in $(WORKBOX_MODULES); do \
		sed '/sourceMappingURL=/d' node_modules/workbox-$$name/build/workbox-$$name.prod.js \
			> $(VENDOR_JS)/workbox-$$name.js; done
	sed '/sourceMappingURL=/d' node_modules/idb-keyval/dist/umd.js > $(VENDOR_JS)/idb-keyval.js
	cp node_modules/workbox-core/LICENSE $(VENDOR_JS)/LICENSE-workbox.txt
	cp node_modules/idb-keyval/LICENCE $(VENDOR_JS)/LICENSE-idb-keyval.txt

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(MAKE) --no-print-directory serve

# The server alone, as `make run` starts it (the benchmark starts it this way too).
APP ?= market:create_app()
ACCESS_LOG ?= -
serve:
	$(BIN)/gunicorn --workers $(WORKERS) --threads $(THREADS) --bind $(HOST):$(PORT) \
		--no-control-socket --access-logfile $(ACCESS_LOG) "$(APP)"

test: install-test
	$(BIN)/pytest -q

# The suite without browsers, servers and long runs (markers e2e, live, slow in pyproject.toml),
# spread over TEST_WORKERS processes; each has its own databases (tests/conftest.py).
TEST_WORKERS ?= auto
test-fast: install-test
	$(BIN)/pytest -q -n $(TEST_WORKERS) -m "not e2e and not live and not slow"

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# wrk drives the load of `make bench` and `make reliability`; it comes from the system's
# packages, which this Makefile does not install.
.PHONY: check-wrk
check-wrk:
	@command -v wrk >/dev/null || { echo "wrk is not installed. Install it first, e.g. on Debian or Ubuntu: sudo apt-get install wrk" >&2; exit 1; }

# Performance budgets (bench/README.md). BENCH_ARGS="--markets 2 --vendors 50 --products 20" for a quick run.
bench: install-test check-wrk
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Lighthouse (mobile) scores of the demo market, stall and product pages, served locally and
# offline; writes bench/results/lighthouse.md and fails below 95. Performance varies from run
# to run, so each page runs LIGHTHOUSE_RUNS times and the median run counts.
LIGHTHOUSE_RUNS ?= 3
lighthouse: install-test
	$(BIN)/python bench/lighthouse.py --runs $(LIGHTHOUSE_RUNS)

# The long runs of docs/RELIABILITY.md: eight editors racing for 30 s, ten worker kills
# mid-upload and mid-save, the other faults, then 60 s of load (wrk on five public pages and
# eight logged-in volunteers, 33 connections) against `make serve`. The tests run on PostgreSQL
# when MARKET_TEST_DATABASE_URL is set, the two-machine test when MARKET_TEST_REDIS_URL is;
# LOAD_ARGS="--database-url URL --redis-url URL --workers 2" loads the scaled-out shape.
.PHONY: reliability
reliability: install-test check-wrk
	MARKET_CONCURRENCY_SECONDS=30 MARKET_FAULT_KILLS=10 $(BIN)/pytest -q -s -p no:cacheprovider \
		tests/test_concurrency.py tests/test_faults.py tests/test_multi_machine.py \
		tests/test_scale_out.py tests/test_upgrades.py tests/test_backup.py
	$(BIN)/python bench/load.py $(LOAD_ARGS)

clean:
	$(FLASK) digest clean
	rm -rf $(VENV) .pytest_cache

# After adding or changing user-facing strings: refresh the catalogues, then translate the new
# entries in market/translations/id/LC_MESSAGES/messages.po.
translations: install-test
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		-o market/translations/messages.pot .
	$(BIN)/pybabel update -i market/translations/messages.pot -d market/translations \
		--width 100 --ignore-obsolete
