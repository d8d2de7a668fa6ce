# EcoLife: `make run` serves a demo on :5000, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
# What marks text for translation besides gettext's own names (ecolife/web/extract.py too).
BABEL_KEYWORDS := -k N_ -k lazy_gettext -k ValidationError -k Invalid:2

.PHONY: run test test-postgres test-browser screens messages fuzz fuzz-postgres bench-load bench-faults bench-scale bench-scans bench-floor bench-leaderboard migrate seed serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall whenever a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

migrate: $(STAMP)
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo

serve: $(STAMP)
	$(FLASK) run --host 127.0.0.1 --port 5000

run: seed serve

test: $(STAMP)
	$(BIN)/pytest -q

# The same suite against the local PostgreSQL and Redis (a database of its own), less the
# browser tests, which test-browser runs there (so CI runs each once per backend).
test-postgres: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} $(BIN)/pytest -q -m 'not fuzz and not browser'

# The web pages in Debian's Chromium (/usr/bin/chromium), on the local PostgreSQL and Redis.
test-browser: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} $(BIN)/pytest -q -m browser tests/browser

# The phone-size screenshots of every page in docs/screens/ (README's "Web pages").
screens: $(STAMP)
	$(BIN)/pytest -q -m screens tests/browser/test_screens.py

# Thai and English: gather the text to translate into the .po (translate it there), then
# compile the .mo files the app reads. Both are committed (tests/web/test_translations.py
# checks they agree), so a checkout runs in Thai however it is started.
messages: $(STAMP)
	PYTHONPATH=. $(BIN)/pybabel -q extract -F babel.cfg $(BABEL_KEYWORDS) --no-location \
	  --sort-output -o $(VENV)/messages.pot .
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d ecolife/translations --no-fuzzy-matching \
	  --ignore-obsolete
	$(BIN)/pybabel compile -d ecolife/translations --statistics

# Schemathesis against the served OpenAPI document (slow-marked, so `make test` skips it).
fuzz: $(STAMP)
	$(BIN)/pytest -q -m fuzz tests/fuzz

fuzz-postgres: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} \
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} $(BIN)/pytest -q -m fuzz tests/fuzz

# Benchmarks (docs/performance.md): gunicorn + the local PostgreSQL and Redis, scratch
# databases and key prefixes of their own, removed at the end.
bench-load: $(STAMP)
	$(BIN)/python -m bench.load

bench-faults: $(STAMP)
	$(BIN)/python -m bench.faults

bench-scale: $(STAMP)
	$(BIN)/python -m bench.scale

# Scans alone against the bare endpoint (issue 4's figures), and leaderboard reads at 1M residents.
bench-scans: $(STAMP)
	$(BIN)/python -m bench.scan_load

# The real scan, then the floor under it (bench/floor_app.py): the scan's own work taken out.
bench-floor: $(STAMP)
	for floor in real framework function function+publish session+publish; do \
	  out=$$($(BIN)/python -m bench.scan_load --duration 15 \
	    $$([ $$floor = real ] || echo --floor $$floor)) || exit 1; \
	  echo "$$out" | grep -E '^(floor|scan_rps|scan_p99_ms|bare_rps|ratio|cpu_ratio)='; \
	done

bench-leaderboard: $(STAMP)
	$(BIN)/python -m bench.leaderboard_read
	$(BIN)/python -m bench.leaderboard_api

clean:
	rm -rf $(VENV) instance
