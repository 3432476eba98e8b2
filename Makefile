# Two entry points from README: `make demo` and `make test`. Each creates what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATE ?= 2025-09-14

.PHONY: demo test lint format bench bench-anomaly clean mwaa-bundle airflow checkov bench-catalog
# checkov pins boto3/botocore below what Airflow needs, so it lives in a venv of its own.
CHECKOV_VENV := .venv-checkov

$(VENV)/.installed: requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

demo: $(VENV)/.installed
	$(PY) scripts/demo.py --date $(DATE)

$(CHECKOV_VENV)/.installed: infra/requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r infra/requirements-checkov.txt
	touch $@

test: $(VENV)/.installed $(CHECKOV_VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.installed
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Speed and cost, measured side by side (~15-20 min; QUICK=1 for a smoke run, ONLY=parse,...).
bench: $(VENV)/.installed
	$(PY) benchmarks/bench.py $(if $(QUICK),--quick) $(if $(ONLY),--only $(ONLY))

bench-anomaly: $(VENV)/.installed
	$(PY) benchmarks/anomaly_benchmark.py $(if $(DATA),--data $(DATA))

# dist/mwaa/: dags/, plugins.zip (with include/), requirements.txt for the MWAA source bucket.
mwaa-bundle: $(VENV)/.installed
	$(PY) scripts/mwaa_bundle.py --out dist/mwaa

# The Airflow UI on http://localhost:8080 (admin/admin) against the sandbox; Ctrl-C stops it.
airflow: $(VENV)/.installed
	$(PY) scripts/airflow_local.py --home .airflow/ui $(if $(PORT),--port $(PORT))

checkov: $(CHECKOV_VENV)/.installed
	$(CHECKOV_VENV)/bin/checkov -d infra/terraform --framework terraform --skip-download --compact

# Time-to-queryable per day: Glue crawler vs BatchCreatePartition, on the sandbox.
bench-catalog: $(VENV)/.installed
	$(PY) benchmarks/catalog_strategies.py

clean:
	rm -rf .airflow demo-output .pytest_cache
