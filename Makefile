# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
#   make demo: the package (numpy, graphviz) and Graphviz's dot, then the demo.
#   make test: the same, plus the dev extra (pytest, ruff, ...), Chromium for the browser test
#              and torch==2.13.0 (CPU) for the PyTorch oracle tests; then ruff and the suite.
# Each step has its own stamp in .venv, so `make test` after `make demo` adds only the rest.
VENV   := .venv
BIN    := $(VENV)/bin
PYTHON ?= python3
TORCH  := torch==2.13.0

export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export DEBIAN_FRONTEND := noninteractive

.PHONY: setup setup-demo graphviz chromium test demo bench lint clean

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

# The package alone: what `tinygraph demo` imports.
$(VENV)/.package: pyproject.toml $(VENV)/.created
	$(BIN)/python -m pip install --quiet -e .
	touch $@

# The dev extra: pytest, hypothesis, ruff, selenium, matplotlib.
$(VENV)/.dev: $(VENV)/.package
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# PyTorch, only an oracle for the tests (the package never depends on it); a failed install
# is one line and the oracle tests are skipped.
$(VENV)/.torch: $(VENV)/.created
	@if $(BIN)/python -c "import torch" >/dev/null 2>&1; then :; \
	elif $(BIN)/python -m pip install --quiet $(TORCH) >/dev/null 2>&1; then \
		echo "installed $(TORCH) for the PyTorch oracle tests"; \
	else \
		echo "could not install $(TORCH); the PyTorch oracle tests will be skipped"; \
	fi
	@touch $@

graphviz:
	@if command -v dot >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Graphviz's dot is missing: installing it with apt-get"; \
		apt-get install -y graphviz >/dev/null 2>&1 || \
		{ apt-get update >/dev/null && apt-get install -y graphviz >/dev/null; }; \
	else \
		echo "Graphviz's dot is missing: install it with 'sudo apt-get install graphviz'"; \
		echo "(macOS: 'brew install graphviz'); pictures and rendering tests will be skipped."; \
	fi

# Headless Chromium for the browser tests (tests/chromium.py sets it up; test_*_browser.py).
chromium:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Chromium is missing: installing chromium and chromium-driver with apt-get (quiet)"; \
		apt-get install -y -q chromium chromium-driver >/dev/null 2>&1 || \
		{ apt-get update >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null; } || \
		echo "could not install Chromium; the browser test will be skipped"; \
	else \
		echo "Chromium is missing: 'sudo apt-get install chromium chromium-driver' to run the"; \
		echo "browser test of the step-through page; it will be skipped."; \
	fi

setup-demo: $(VENV)/.package graphviz

setup: $(VENV)/.dev $(VENV)/.torch graphviz chromium

lint: $(VENV)/.dev
	$(BIN)/ruff check .

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

# Without Graphviz the demo prints its tables and skips the pictures.
demo: setup-demo
	@if command -v neato >/dev/null 2>&1; then $(BIN)/tinygraph demo --out out/; \
	else $(BIN)/tinygraph demo --no-pictures; fi

bench: $(VENV)/.package $(VENV)/.torch
	$(BIN)/python benchmarks/bptt.py --save docs/benchmark_results.md

clean:
	rm -rf $(VENV) out .pytest_cache
