# Every target sets up what it needs, idempotently: `make test` and `make demo`
# work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EIGEN := /usr/include/eigen3/Eigen/Core

.PHONY: setup test demo bench lint extension clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@if [ ! -f $(EIGEN) ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && apt-get install -y -qq libeigen3-dev) || echo "Eigen headers unavailable: pysdf will be skipped"; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt
	@# pysdf is sdist-only and needs Eigen; its setup script misreads Eigen 3.4.0, so CPATH points at the headers.
	CPATH=/usr/include/eigen3 $(PY) -m pip install -q pysdf || echo "pysdf did not build: the libigl SDF backend is used"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q tests

lint: $(STAMP)
	$(VENV)/bin/ruff check engine blender_addon scripts tests

demo: $(STAMP)
	$(PY) scripts/demo.py

bench: $(STAMP)
	$(PY) -m engine bench --baselines

extension: $(STAMP)
	$(PY) scripts/fetch_wheels.py
	$(PY) scripts/build_extension.py

clean:
	rm -rf build dist out
