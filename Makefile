# Two entry points from README: `make demo` and `make test`. Each creates what it needs.
# Python 3.12, as on MWAA (its images run 3.12.13): pyenv's 3.12.1 when present, else a python3.12
# on PATH (pyenv's shim refuses a bare python3.12), else python3 with a warning.
ifeq ($(origin PYTHON),undefined)
  PYENV_312 := $(shell pyenv prefix 3.12.1 2>/dev/null)
  PATH_312 := $(shell python3.12 -c 'import sys; print(sys.executable)' 2>/dev/null)
  ifneq ($(and $(PYENV_312),$(wildcard $(PYENV_312)/bin/python3.12)),)
    PYTHON := $(PYENV_312)/bin/python3.12
  else ifneq ($(PATH_312),)
    PYTHON := $(PATH_312)
  else
    PYTHON := python3
    $(warning WARNING: pyenv's Python 3.12.1 not found, using python3. MWAA runs Python 3.12: .venv then misses MWAA's constraints (numpy 2.5.1 needs 3.12). Fix: pyenv install 3.12.1, or PYTHON=/path/to/python3.12)
  endif
endif
VENV := .venv
PY := $(VENV)/bin/python
DATE ?= 2025-09-14
# The MWAA image the bundle targets (requirements.txt's first line) and the one mwaa-check checks.
MWAA_TARGET := 3.3.1
MWAA_VERSION ?= $(MWAA_TARGET)
# The dev venv installs under the target image's constraints, so local runs use MWAA's versions.
DEV_CONSTRAINTS := mwaa/constraints-$(MWAA_TARGET)-py3.12.txt

.PHONY: dashboard demo test lint format bench bench-anomaly clean mwaa-bundle mwaa-check airflow checkov bench-catalog check-config check-aws render-sql
# checkov pins boto3/botocore below what Airflow needs, so it lives in a venv of its own.
CHECKOV_VENV := .venv-checkov

# A .venv on another Python than $(PYTHON) (an older 3.11 one) is rebuilt. The constraints apply on
# Python 3.12 only: on 3.11 some of their pins (numpy 2.5.1) have no wheels.
$(VENV)/.installed: requirements-dev.txt $(DEV_CONSTRAINTS)
	@if [ -x $(PY) ] && [ "$$($(PY) -c 'import sys; print(sys.version_info[:2])')" != "$$($(PYTHON) -c 'import sys; print(sys.version_info[:2])')" ]; then \
		echo "$(VENV) runs another Python than $(PYTHON): recreating it"; rm -rf $(VENV); fi
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@if $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then \
		echo "$(PY) -m pip install -r requirements-dev.txt --constraint $(DEV_CONSTRAINTS)"; \
		$(PY) -m pip install --quiet -r requirements-dev.txt --constraint $(DEV_CONSTRAINTS); \
	else \
		echo "WARNING: $(VENV) is not on Python 3.12: requirements-dev.txt installed WITHOUT $(DEV_CONSTRAINTS)"; \
		$(PY) -m pip install --quiet -r requirements-dev.txt; \
	fi
	touch $@

# COST_SOURCE=data_exports: the day's costs from the sandbox's CUR 2.0 export through Athena.
COST_SOURCE ?= cost_explorer
demo: $(VENV)/.installed
	$(PY) scripts/demo.py --date $(DATE) --cost-source $(COST_SOURCE)

$(CHECKOV_VENV)/.installed: infra/requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r infra/requirements-checkov.txt
	touch $@

# The browser tests drive Debian's Chromium (Playwright's own browser download is not reachable
# from CI); installed here when missing, as root with apt, else the tests say what is missing.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "WARNING: apt-get could not install chromium: the browser tests will fail"; \
	else echo "WARNING: $(CHROMIUM) missing and cannot be installed here (needs root and apt-get): the browser tests will fail"; fi

test: $(VENV)/.installed $(CHECKOV_VENV)/.installed $(CHROMIUM)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest
	$(PY) scripts/mwaa_check.py --mwaa-version $(MWAA_VERSION) $(if $(MWAA_PYTHON),--python $(MWAA_PYTHON))

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.installed
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Speed and cost, measured side by side (~1 hour, scale ~40 min; QUICK=1 for a smoke run, ONLY=scale,...).
bench: $(VENV)/.installed
	$(PY) benchmarks/bench.py $(if $(QUICK),--quick) $(if $(ONLY),--only $(ONLY))

bench-anomaly: $(VENV)/.installed
	$(PY) benchmarks/anomaly_benchmark.py $(if $(DATA),--data $(DATA))

# dist/mwaa/: dags/ (with the library, include/ and the constraints file), requirements.txt.
mwaa-bundle: $(VENV)/.installed
	$(PY) scripts/mwaa_bundle.py --out dist/mwaa $(if $(filter-out $(MWAA_TARGET),$(MWAA_VERSION)),--mwaa-version $(MWAA_VERSION))

# The bundle installed as MWAA's image installs it (Python 3.12, the image's packages and
# constraints, then requirements.txt), laid out as MWAA lays it out, its DagBag loaded and the whole
# DAG run for one day against the sandbox. The replica venv is cached in .venv-mwaa-<version>/.
# MWAA_VERSION=3.2.1 for the older image; MWAA_PYTHON=/path/to/python3.12 to choose the interpreter.
mwaa-check: $(VENV)/.installed
	$(PY) scripts/mwaa_check.py --mwaa-version $(MWAA_VERSION) $(if $(MWAA_PYTHON),--python $(MWAA_PYTHON))

# The Airflow UI on http://localhost:8080 (admin/admin) against the sandbox; Ctrl-C stops it.
airflow: $(VENV)/.installed
	$(PY) scripts/airflow_local.py --home .airflow/ui $(if $(PORT),--port $(PORT))

# The command-line checks for people: CONFIG=finops_config.json (default: the Variable's env var).
check-config: $(VENV)/.installed
	PYTHONPATH=dags $(PY) -m finops_digest check-config $(CONFIG)

check-aws: $(VENV)/.installed
	PYTHONPATH=dags $(PY) -m finops_digest check-aws $(if $(CONFIG),--config $(CONFIG))

render-sql: $(VENV)/.installed
	PYTHONPATH=dags $(PY) -m finops_digest render-sql $(if $(BUCKET),--bucket $(BUCKET))

checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov -d infra/terraform --framework terraform --skip-download --compact

# Time-to-queryable per day: Glue crawler vs BatchCreatePartition, on the sandbox.
bench-catalog: $(VENV)/.installed
	$(PY) benchmarks/catalog_strategies.py

clean:
	rm -rf .airflow demo-output .pytest_cache .mwaa-check

# The drill-through dashboard over a demo archive: the sandbox started as `make demo` does, the DAG
# run for each day FROM..DATE (default: the 7 days to DATE), then served on 127.0.0.1:$(PORT).
PORT ?= 8050
dashboard: $(VENV)/.installed
	$(PY) scripts/dashboard.py --to $(DATE) $(if $(FROM),--from $(FROM)) --port $(PORT)
