# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate seed schema catalog manifest lint lint-sam bench clean

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

seed: export AUTH_TEST_PHONE_NUMBERS ?= +15550000001:123456,+15550000002:654321
seed: migrate
	$(PY) manage.py seed_demo

# Development-only conveniences for `make run`: fixed codes for two test numbers, a notifications file.
run: export AUTH_TEST_PHONE_NUMBERS ?= +15550000001:123456,+15550000002:654321
run: export NOTIFICATIONS_FILE ?= notifications.jsonl
# --no-proxy-headers: the app alone believes X-Forwarded-* (TRUSTED_PROXY_HOPS, TRUSTED_PROXY_TLS);
# uvicorn's own handling would let any local client forge its address and scheme.
# --no-access-log: an access log line holds the whole URL, and a GET request's variables with it.
run: seed
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(VENV)/bin/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --lifespan off \
		--no-proxy-headers --no-access-log

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint infra/template.yaml
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

bench: install
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam db.sqlite3 db.sqlite3-* staticfiles
