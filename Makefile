# Strata: `make run` serves the demo archive, `make test` runs the checks.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
SQLITE_URL := sqlite:///$(CURDIR)/db.sqlite3
# Local runs (the demo, the fuzzer, the benchmark) serve plain HTTP on loopback with a throwaway
# key; production settings refuse to start without a SECRET_KEY (docs/operations.md).
LOCAL_ENV := SECRET_KEY="$${SECRET_KEY:-strata-local-key-not-for-production}" HTTPS_ONLY=0

.PHONY: install run test lint fuzz bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# The demo: an SQLite file with the seeds, the demo accounts, and the app on 127.0.0.1:8000.
run: install
	$(LOCAL_ENV) DATABASE_URL=$(SQLITE_URL) $(PY) manage.py migrate --no-input
	$(LOCAL_ENV) DATABASE_URL=$(SQLITE_URL) $(PY) manage.py create_demo_accounts
	$(LOCAL_ENV) DATABASE_URL=$(SQLITE_URL) $(PY) manage.py load_seeds
	@echo "Admin: http://127.0.0.1:8000/admin/"
	$(LOCAL_ENV) DEBUG=1 LOG_FORMAT=text DATABASE_URL=$(SQLITE_URL) $(PY) manage.py runserver 127.0.0.1:8000

lint: install
	$(VENV)/bin/ruff check .

# The suite on SQLite, then again on PostgreSQL when DATABASE_URL names one.
test: lint
	DATABASE_URL=$(SQLITE_URL) $(PY) -m pytest
	@case "$$DATABASE_URL" in \
	  postgres*) echo "== again on PostgreSQL"; $(PY) -m pytest ;; \
	  *) echo "DATABASE_URL names no PostgreSQL database: ran on SQLite only." ;; \
	esac

# Fuzz the public API: a seeded demo database, a live server on loopback, and schemathesis
# checking that no request gets a 5xx and every response conforms to the OpenAPI schema.
FUZZ_DIR := $(CURDIR)/.fuzz
FUZZ_PORT ?= 8124
# A fixed seed keeps CI repeatable; run `make fuzz FUZZ_SEED=` (empty) to explore new inputs.
FUZZ_SEED ?= 225269143140318249020926177874562502112
fuzz: install
	rm -rf $(FUZZ_DIR) && mkdir -p $(FUZZ_DIR)
	$(LOCAL_ENV) DATABASE_URL=sqlite:///$(FUZZ_DIR)/db.sqlite3 $(PY) manage.py migrate --no-input -v0
	$(LOCAL_ENV) DATABASE_URL=sqlite:///$(FUZZ_DIR)/db.sqlite3 $(PY) manage.py create_demo_accounts > /dev/null
	$(LOCAL_ENV) DATABASE_URL=sqlite:///$(FUZZ_DIR)/db.sqlite3 $(PY) manage.py load_seeds
	$(LOCAL_ENV) DATABASE_URL=sqlite:///$(FUZZ_DIR)/db.sqlite3 API_THROTTLE_RATE=1000000/minute \
	  $(PY) manage.py runserver 127.0.0.1:$(FUZZ_PORT) --noreload > $(FUZZ_DIR)/server.log 2>&1 & \
	  echo $$! > $(FUZZ_DIR)/server.pid
	$(VENV)/bin/schemathesis run http://127.0.0.1:$(FUZZ_PORT)/api/schema/ --wait-for-schema 30 \
	  --checks not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance \
	  --max-examples 25 --generation-database none $(if $(FUZZ_SEED),--seed $(FUZZ_SEED)); \
	  status=$$?; kill $$(cat $(FUZZ_DIR)/server.pid); exit $$status

# Benchmarks at archive scale (docs/performance.md): drops and recreates the database
# strata_bench on the PostgreSQL server DATABASE_URL names (default: the local one), builds an
# archive of SCALE events through the commands, measures, and rewrites docs/performance.md.
# Not part of `make test`. RUNS= sets the runs per figure (default 3; 1 above 100k); OUTPUT= writes
# the document elsewhere.
SCALE ?= 10k
RUNS ?=
OUTPUT ?=
BENCH_SERVER := $(if $(filter postgres%,$(DATABASE_URL)),$(DATABASE_URL),postgres://postgres@127.0.0.1:5432/postgres)
bench: install
	$(LOCAL_ENV) DATABASE_URL=$(BENCH_SERVER) $(PY) -m bench.run --scale $(SCALE) $(if $(RUNS),--runs $(RUNS)) \
	  $(if $(OUTPUT),--output $(OUTPUT))
