# Two commands do all the set-up: `make repro` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# GPU=1: also TensorFlow's CUDA extra (NVIDIA's CUDA and cuDNN wheels, Linux only) at the pinned version.
GPU ?= 0
TF_VERSION := $(shell sed -n 's/^tensorflow==//p' constraints.txt)
GPU_STAMP := $(VENV)/.installed-gpu-$(TF_VERSION)
STAMPS := $(STAMP) $(if $(filter 1,$(GPU)),$(GPU_STAMP))
# dvc.yaml's commands say `python`: make it the project's.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: setup repro test test-fast lint bench clean-venv

setup: $(STAMPS)

# Re-installs only when the pins change; otherwise a no-op.
$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed: install python3.11 or run 'make PYTHON=/path/to/python3.11'."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# The CPU build stays the default and the tested one; this adds the CUDA libraries beside it.
$(GPU_STAMP): $(STAMP)
	@test "$$(uname -s)" = Linux || { echo "GPU=1: TensorFlow's CUDA build is for Linux only (on macOS the CPU build runs as is)."; exit 1; }
	$(BIN)/python -m pip install --quiet -c constraints.txt 'tensorflow[and-cuda]==$(TF_VERSION)'
	$(BIN)/python -c "import tensorflow as tf; print('GPUs visible to TensorFlow:', tf.config.list_physical_devices('GPU') or 'none')"
	touch $(GPU_STAMP)

repro: $(STAMPS)
	$(BIN)/dvc repro

test: $(STAMPS)
	$(BIN)/python -m pytest

# pyflakes, import order and pycodestyle at 120 columns (pyproject.toml's [tool.ruff]); CI runs it.
lint: $(STAMP)
	$(BIN)/ruff check .

# The inner loop: everything but the tests that run dvc repro or train a model.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# Benches that need real recordings or model files from the field, which are never committed: run them by hand
# with their arguments (README, "Tests and benchmarks").
REAL_DATA_BENCHES = bench/model_files.py bench/seed_notebook.py bench/jungle_look.py

bench: $(STAMP)
	for b in $(filter-out bench/bench_support.py $(REAL_DATA_BENCHES),$(wildcard bench/*.py)); do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean-venv:
	rm -rf $(VENV)
