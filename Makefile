# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
UNAME := $(shell uname -s)
# The Linux tray needs PyGObject (menus) and dbus-python (notifications); both
# build against system headers, see README "System packages".
ifeq ($(UNAME),Linux)
TEST_EXTRAS := dev,linux-desktop
else
TEST_EXTRAS := dev
endif
PYTEST_ARGS ?=

.PHONY: run test test-fast lint bench release clean

$(VENV)/.run-installed: pyproject.toml VERSION
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.run-installed
	$(PY) -m pip install -q -e '.[$(TEST_EXTRAS)]'
	touch $@

run: $(VENV)/.run-installed
	$(VENV)/bin/voxtrald run

test: $(VENV)/.test-installed
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
