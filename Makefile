# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
UNAME := $(shell uname -s)
# The Linux tray's menus need PyGObject, built against system headers: `make test`
# first installs the system packages of packaging/system-packages.txt (see README).
ifeq ($(UNAME),Linux)
TEST_EXTRAS := dev,linux-desktop
else
TEST_EXTRAS := dev
endif
PYTEST_ARGS ?=

.PHONY: run test test-fast lint bench release clean system-packages

$(VENV)/.run-installed: pyproject.toml VERSION
	@$(PYTHON) -m venv $(VENV) || { echo "cannot create $(VENV): on Debian/Ubuntu, \
	install python3-venv (sudo apt-get install python3-venv)" >&2; exit 2; }
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

# Before any pip step, so a missing header stops here with the one command to run.
system-packages:
	@PYTHON=$(PYTHON) sh packaging/system-packages.sh

$(VENV)/.test-installed: $(VENV)/.run-installed | system-packages
	$(PY) -m pip install -q -e '.[$(TEST_EXTRAS)]'
	touch $@

run: $(VENV)/.run-installed
	$(VENV)/bin/voxtrald run

test: system-packages $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -ra $(PYTEST_ARGS)

# The tests that start no process (no daemon, no model, no desktop), for quick runs.
test-fast: $(VENV)/.test-installed
	$(PY) -m pytest -q -m "not e2e" $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Real recordings (../shared/audio) and a 15-minute long-form file, raw faster-whisper
# against the real daemon in one run; ARGS adds options (see bench_real.py --help).
bench: $(VENV)/.test-installed
	$(PY) benchmarks/bench_real.py $(ARGS)

release: $(VENV)/.test-installed
	$(PY) packaging/release.py $(ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
