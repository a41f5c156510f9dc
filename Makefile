# The two commands: `make run` (the app with the demo trust) and `make test` (the test suite).
# A third, for the production-like run: `make prod` (gunicorn, Celery worker and beat on PostgreSQL and
# Redis, DEBUG off; bin/prod) and `make prod-stop`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: setup run test lint check assets bench prod prod-stop prod-status clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $@

setup: $(VENV)/.installed
	@bin/system-deps
	@# The family-facing strings' message files (the .mo files are built, never committed).
	@cd asks && ../$(PY) ../manage.py compilemessages -v 0

# Links in e-mails, text messages and QR codes point at the address this serves on, unless SITE_URL is set.
run: SITE_URL ?= http://$(HOST):$(PORT)
run: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "\nTrustSupport is at http://$(HOST):$(PORT)/ (Ctrl+C stops it)\n"
	SITE_URL='$(SITE_URL)' $(PY) manage.py runserver $(HOST):$(PORT)

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

# Every benchmark under bench/, and bench/RESULTS.md with their figures, baselines and targets.
bench: setup
	$(PY) bench/report.py $(BENCH_ARGS)

prod: setup
	bin/prod start

prod-stop:
	bin/prod stop

prod-status:
	bin/prod status

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
