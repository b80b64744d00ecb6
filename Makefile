# The two commands a newcomer needs: `make run` and `make test`.
# The newest Python 3.13, 3.12 or 3.11 on this machine (PATH or pyenv); `make PYTHON=...` picks one.
PYTHON ?= $(shell tools/find_python.sh)
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run serve-prod test install migrate seed schema catalog manifest lint lint-sam bench clean

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" && command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11, 3.12 or 3.13 is required (none found)"; exit 1; }
	@test -x $(PY) || { echo "==> Creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@echo "==> Upgrading pip"
	@$(PY) -m pip install --quiet --upgrade pip
	@echo "==> Installing the dependencies (about two minutes the first time)"
	@$(PY) -m pip install --progress-bar off -e ".[dev]"
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: export AUTH_TEST_PHONE_NUMBERS ?= +15550000001:123456,+15550000002:654321
seed: migrate
	$(PY) manage.py seed_demo

# Development-only conveniences for `make run`: fixed codes for two test numbers, a notifications file.
run: export AUTH_TEST_PHONE_NUMBERS ?= +15550000001:123456,+15550000002:654321
run: export NOTIFICATIONS_FILE ?= notifications.jsonl
# The port first: a taken one fails before migrate and seed. The server (config/devserver.py) runs
# uvicorn without its proxy-header handling and access log, then prints the addresses and the demo
# accounts once it listens.
run: install
	@$(PY) -m config.devserver check --host $(HOST) --port $(PORT)
	@echo "==> Migrating the database"
	@$(PY) manage.py migrate --noinput
	@echo "==> Seeding demo data"
	@$(PY) manage.py seed_demo
	@echo "==> Collecting static files (hashed and compressed)"
	@$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "==> Starting the server on http://$(HOST):$(PORT)/"
	@$(PY) -m config.devserver serve --host $(HOST) --port $(PORT)

# The production process model on this machine (the Procfile, run by honcho): gunicorn with
# WEB_CONCURRENCY uvicorn workers on HOST:PORT, and one relay worker (`manage.py relay_events`).
# DJANGO_ENV=production: set SECRET_KEY and EVENTS_SEALING_KEY (or EVENTS_SEALING_KMS_KEY), and
# DATABASE_URL (PostgreSQL) and REDIS_URL, which the relay and the workers share. docs/deploy.md.
serve-prod: export DJANGO_ENV ?= production
serve-prod: export EVENTS_RELAY_IN_PROCESS = 0
serve-prod: export JOBS_WORKER_IN_PROCESS = 0
serve-prod: install
	@test -n "$$DATABASE_URL" -a -n "$$REDIS_URL" || { \
		echo "serve-prod needs DATABASE_URL (PostgreSQL) and REDIS_URL: its processes share them"; \
		exit 1; }
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/honcho start -f Procfile -p $(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint infra/template.yaml
	$(VENV)/bin/hadolint Dockerfile
	$(MAKE) lint-sam
	$(PY) manage.py check

# The SAM CLI lives in its own venv: it is large (~110 s to install, once) and pins its own
# versions of libraries the project also uses. `sam validate --lint` needs a region, not a network.
SAM_VENV := .venv-sam
SAM_CLI_VERSION := 1.170.0
$(SAM_VENV)/.installed-$(SAM_CLI_VERSION):
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

lint-sam: $(SAM_VENV)/.installed-$(SAM_CLI_VERSION)
	AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} SAM_CLI_TELEMETRY=0 \
		$(SAM_VENV)/bin/sam validate --lint --template-file infra/template.yaml

schema: install
	$(PY) manage.py export_schema_sdl

catalog: install
	$(PY) manage.py export_event_catalog

manifest: install
	$(PY) manage.py trusted_documents manifest

# Every bench, or only those BENCH names: `make bench BENCH="gunicorn_workers subscriptions_bench"`.
# The bench extras (pyproject.toml) are installed first, so a fresh checkout needs nothing else.
bench: install
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) -m bench $(BENCH)

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam db.sqlite3 db.sqlite3-* staticfiles
