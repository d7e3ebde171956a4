# PROMISE Charter. Two commands matter: `make run` and `make test` (see README.md).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export FLASK_APP := run.py

.PHONY: run test install lint format bench lock clean-db ci messages

# Create the virtual environment and install the pinned dependencies (once, and again
# whenever pyproject.toml or constraints.txt changes).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## make run: install, build the database, load the demo data if it is empty, serve on :5000
## with the task worker beside it (run.py starts `flask charter worker` and stops it on exit)
run: $(STAMP)
	$(BIN)/flask db upgrade
	$(BIN)/flask charter demo --if-empty
	$(BIN)/python run.py

## make test: install and run the whole suite (TEST_DATABASE_URL=postgresql+psycopg://… for PostgreSQL)
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks

# Rewrite constraints.txt from what is installed (after changing a pin in pyproject.toml).
lock: $(STAMP)
	$(BIN)/pip freeze --exclude-editable | grep -v '^promise-charter' > constraints.txt

clean-db:
	rm -f instance/charter.sqlite3 instance/charter.sqlite3-wal instance/charter.sqlite3-shm

ci:
	.ci/run

# Extract every string marked for translation (Flask-Babel) into the catalogue template.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o charter/translations/messages.pot --no-location --sort-output .
