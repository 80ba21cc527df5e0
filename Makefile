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
# Tests run on both cores (pytest-xdist). A file's tests stay on one worker, in order
# (--dist loadfile), so a module's fixture (one daemon, one loaded model) is built once
# and tests that share it never run beside each other. JOBS=1 runs them in one process.
JOBS ?= 2
XDIST := $(if $(filter 1,$(JOBS)),,-n $(JOBS) --dist loadfile)

.PHONY: run test check test-fast lint bench bench-queue release clean system-packages

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

# The whole gate: lint, types, and every test (unit and end to end).
test: system-packages $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -ra $(XDIST) $(PYTEST_ARGS)

# The quick gate before a commit: lint, types and the tests that start no process.
check: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -q $(XDIST) tests/unit $(PYTEST_ARGS)

# Only the tests that start no process (no daemon, no model, no desktop): the inner loop.
test-fast: $(VENV)/.test-installed
	$(PY) -m pytest -q $(XDIST) tests/unit $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Real recordings (../shared/audio) and a 15-minute long-form file, raw faster-whisper
# against the real daemon in one run; ARGS adds options (see bench_real.py --help).
bench: $(VENV)/.test-installed
	$(PY) benchmarks/bench_real.py $(ARGS)

# The team queue against SQLite: per-job store calls, claims racing, three daemons against
# one, in one run; starts its own PostgreSQL cluster. ARGS: --part store|daemons, --jobs N.
bench-queue: $(VENV)/.test-installed
	$(PY) benchmarks/bench_queue.py $(ARGS)

release: $(VENV)/.test-installed
	$(PY) packaging/release.py $(ARGS)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
