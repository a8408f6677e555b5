# Two commands do all the set-up: `make demo` runs the kiosk on simulated hardware,
# `make test` runs the whole test suite. Both create the virtual environment and install
# what is missing (Debian packages included) first, and are safe to run again.

SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TOUR_DIR ?= build/tour

# Debian packages: what the demo needs to draw (Mesa GL, touch input library), and
# what the tests add (PC/SC daemon, virtual reader driver, SoftHSM2, headers for pyscard,
# libfaketime to run the suite years ahead, PostgreSQL 15, Kannel with its fake SMS centre, and Chromium with
# its driver: the hub's tests start those themselves).
DEB_DEMO := libgl1 libgl1-mesa-dri libegl1 libmtdev1 espeak-ng
DEB_TEST := $(DEB_DEMO) pcscd vsmartcard-vpcd softhsm2 opensc libpcsclite-dev swig faketime tzdata postgresql \
            kannel kannel-extras chromium chromium-driver fonts-dejavu-core

# The suite again with the wall clock moved about three years on: no test and no behaviour may
# depend on the day it was written. Monotonic time stays real (a faked one hangs every timed wait
# on a lock); tests/future_clock/sitecustomize.py works around libfaketime 0.9.10 failing Python's
# time.sleep() then.
FUTURE ?= +1100d
# (The multi-worker hub tests stay on the real clock: uvicorn's worker supervisor under libfaketime
# answered too late for them on this machine; they test concurrency, not dates.)
FUTURE_TESTS ?= tests/kiosk tests/offline tests/hub tests/entrypoints --ignore=tests/hub/test_fleet_hub.py

.PHONY: demo test lint tour clean

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
	  || { echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml Makefile | $(PY)
	deploy/ensure-debian-packages.sh $(DEB_DEMO)
	$(PY) -m pip install --quiet -e '.[pkcs11,hub]'
	touch $@

$(VENV)/.test-installed: pyproject.toml Makefile | $(PY)
	deploy/ensure-debian-packages.sh $(DEB_TEST)
	$(PY) -m pip install --quiet -e '.[dev,pcsc,pkcs11]'
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
	  $(VENV)/bin/kiosk demo; \
	else \
	  echo "No display: running the scripted tour headless."; \
	  $(VENV)/bin/kiosk demo --tour $(TOUR_DIR) --data-dir build/demo-data \
	    && echo "Screenshots and the receipt are in $(CURDIR)/$(TOUR_DIR)"; \
	fi

tour: $(VENV)/.demo-installed
	$(VENV)/bin/kiosk demo --tour $(TOUR_DIR) --data-dir build/demo-data

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

test: lint
	@$(PY) -m pytest; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure"; exit 1; fi; \
	[ $$rc -eq 0 ] || exit $$rc; \
	echo "The core, offline, hub and command-line tests again, with the clock moved $(FUTURE):"; \
	PYTHONPATH=$(CURDIR)/tests/future_clock FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f '$(FUTURE)' $(PY) -m pytest -q -p no:cacheprovider $(FUTURE_TESTS); \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests: that is a failure"; exit 1; fi; \
	exit $$rc

clean:
	rm -rf $(VENV) build .pytest_cache
