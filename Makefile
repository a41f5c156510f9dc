# The two commands: `make run` (the app with the demo trust) and `make test` (the test suite).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint check assets bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed
	@bin/system-deps

run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "\nTrustSupport is at http://$(HOST):$(PORT)/ (Ctrl+C stops it)\n"
	$(PY) manage.py runserver $(HOST):$(PORT)

test: setup
	$(PY) -m pytest -n 2 $(PYTEST_ARGS)

lint: setup
	$(VENV)/bin/ruff check .

check: setup
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

# Rebuild the vendored front-end (needs Node.js and npm; the built files are committed).
assets:
	bash frontend/build.sh

bench: setup
	$(PY) bench/import_pupils.py
	$(PY) bench/redeem.py
	$(PY) bench/voucher_pdf.py
	$(PY) bench/gifts.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
