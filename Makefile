# Tsunagu — the commands a developer, CI and an operator use. See README.md.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format messages makemessages migrate vendor clean screenshots schemathesis bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.installed

# Compiled translations (.mo) are build products: made from locale/*/LC_MESSAGES/django.po.
messages: $(VENV)/.installed
	@command -v msgfmt >/dev/null || { echo "GNU gettext (msgfmt) is needed: apt-get install gettext"; exit 1; }
	DEBUG=True $(MANAGE) compilemessages --ignore '.venv' -v 0

makemessages: $(VENV)/.installed
	DEBUG=True $(MANAGE) makemessages -l ja -l en --ignore '.venv' --ignore 'staticfiles' --ignore 'node_modules'
	DEBUG=True $(MANAGE) makemessages -d djangojs -l ja -l en --ignore '.venv' --ignore 'staticfiles' --ignore 'static/vendor' --ignore 'node_modules'

migrate: $(VENV)/.installed
	$(MANAGE) migrate

# The demo's Twilio is the local one (manage.py twilio_emulator): an account of its own.
TWILIO_PORT ?= 8020
DEMO_TWILIO := DEBUG=True TWILIO_API_URL=http://127.0.0.1:$(TWILIO_PORT) \
	TWILIO_ACCOUNT_SID=AC00000000000000000000000000000001 TWILIO_AUTH_TOKEN=local-twilio-auth-token \
	TWILIO_API_KEY_SID=SK00000000000000000000000000000001 TWILIO_API_KEY_SECRET=local-twilio-api-key-secret \
	TWILIO_TWIML_APP_SID=AP00000000000000000000000000000001 TWILIO_CALLER_ID=+815012345678

# A bare machine to a running demo: venv, dependencies, SQLite, demo data, then the web server
# and the local Twilio together (Procfile, honcho): one command, one Ctrl-C.
run: $(VENV)/.installed messages
	$(DEMO_TWILIO) $(MANAGE) migrate
	$(DEMO_TWILIO) $(MANAGE) seed_demo
	$(DEMO_TWILIO) RUN_HOST=$(HOST) RUN_PORT=$(PORT) TWILIO_PORT=$(TWILIO_PORT) \
		$(BIN)/honcho start --no-prefix -f Procfile

# The whole suite: lint and format check, then pytest (SQLite, or PostgreSQL when DATABASE_URL is
# set). Debian's chromium, fonts-noto-cjk and nginx are installed first when missing (as root).
test: $(VENV)/.installed-dev messages
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	./scripts/test_packages.sh
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

vendor:
	./scripts/vendor_static.sh

# Short runs of every benchmark against the local PostgreSQL (docs/benchmarks.md): cost per
# webhook, waiting callers, reports, routing at load on one node; each makes and drops its own
# database. BENCH_ARGS=--nginx puts nginx in front (installed when missing, as root).
BENCH_ARGS ?=
bench: $(VENV)/.installed messages
	$(if $(findstring --nginx,$(BENCH_ARGS)),./scripts/test_packages.sh)
	$(BIN)/python benchmarks/webhook_cost.py --quick
	$(BIN)/python benchmarks/wait_loop.py --quick $(BENCH_ARGS)
	$(BIN)/python benchmarks/reports_bench.py --quick
	$(BIN)/python benchmarks/multinode.py --single --quick

# Fuzz the REST API against its own OpenAPI schema on a throwaway local server.
schemathesis: $(VENV)/.installed-dev
	./scripts/schemathesis.sh

clean:
	rm -rf $(VENV) staticfiles .pytest_cache

# Re-take the pictures in docs/screenshots/ (browser tests; Japanese text needs fonts-noto-cjk).
screenshots: $(VENV)/.installed-dev messages
	TSUNAGU_SCREENSHOTS=1 $(BIN)/pytest -n 0 -m browser
