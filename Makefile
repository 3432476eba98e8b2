# Two entry points from README: `make demo` and `make test`. Each creates what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATE ?= 2025-09-14

.PHONY: demo test lint format bench-anomaly clean

$(VENV)/.installed: requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

demo: $(VENV)/.installed
	$(PY) scripts/demo.py --date $(DATE)

test: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(VENV)/.installed
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench-anomaly: $(VENV)/.installed
	$(PY) benchmarks/anomaly_benchmark.py $(if $(DATA),--data $(DATA))

clean:
	rm -rf .airflow demo-output .pytest_cache
