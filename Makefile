# Every target sets up what it needs, idempotently: `make test` and `make demo`
# work on a fresh machine.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
EIGEN := /usr/include/eigen3/Eigen/Core

.PHONY: setup test demo bench lint extension matrix clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-bench.txt requirements-batch.txt
	@if [ ! -f $(EIGEN) ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && apt-get install -y -qq libeigen3-dev) || echo "Eigen headers unavailable: pysdf will be skipped"; fi
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -r requirements-dev.txt -r requirements-bench.txt -r requirements-batch.txt
	@# pysdf is sdist-only and needs Eigen; its setup script misreads Eigen 3.4.0, so CPATH points at the headers.
	CPATH=/usr/include/eigen3 $(PY) -m pip install -q pysdf || echo "pysdf did not build: the libigl SDF backend is used"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q tests

lint: $(STAMP)
	$(VENV)/bin/ruff check engine bench blender_addon scripts tests

demo: $(STAMP)
	$(PY) scripts/demo.py

bench: $(STAMP)
	$(PY) -m bench --baselines

# `make extension` fetches the wheels of every Blender Python line and platform (cached in WHEEL_CACHE)
# and builds + validates one zip per (platform, line) in dist/. Narrow it with e.g.
# EXT_PYTHONS=3.11 EXT_PLATFORMS=linux-x64; EXT_FETCH_ARGS="--torch-find-links DIR" names a folder with
# the Linux CPU torch for cp313 (without one the linux cp313 zip has no torch); EXT_LAYOUT=combined
# builds one zip per platform with both lines instead.
WHEEL_CACHE ?= $(if $(wildcard /opt/partsdf-wheel-cache),/opt/partsdf-wheel-cache,$(HOME)/.cache/partsdf-wheels)
EXT_PYTHONS ?= 3.11 3.13
EXT_PLATFORMS ?= linux-x64 windows-x64 macos-arm64
EXT_LAYOUT ?= per-python
EXT_FETCH_ARGS ?=
EXT_SELECT = $(foreach p,$(EXT_PYTHONS),--python $(p)) $(foreach p,$(EXT_PLATFORMS),--platform $(p))

extension: $(STAMP)
	$(PY) scripts/fetch_wheels.py --cache-dir $(WHEEL_CACHE) $(EXT_SELECT) $(EXT_FETCH_ARGS)
	$(PY) scripts/build_extension.py --layout $(EXT_LAYOUT) $(EXT_SELECT)

# The Linux zips of both Python lines, installed and run in Blender 4.2, 4.5, 5.0 (bpy modules in venvs)
# and 5.1 (Python 3.13 in a Debian trixie root, scripts/py313_root.sh; needs root); writes
# docs/blender_matrix.md and fails if any line fails.
matrix: $(STAMP)
	$(PY) scripts/fetch_wheels.py --cache-dir $(WHEEL_CACHE) --python 3.11 --python 3.13 --platform linux-x64 $(EXT_FETCH_ARGS)
	$(PY) scripts/build_extension.py --python 3.11 --python 3.13 --platform linux-x64
	$(PY) scripts/blender_matrix.py --markdown docs/blender_matrix.md

clean:
	rm -rf build dist out
