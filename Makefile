# Two commands do all set-up on a fresh machine: `make test` and `make demo`.
VENV   := .venv
BIN    := $(VENV)/bin
PYTHON ?= python3

export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export DEBIAN_FRONTEND := noninteractive

.PHONY: setup graphviz chromium test demo bench lint clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

graphviz:
	@if command -v dot >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Graphviz's dot is missing: installing it with apt-get"; \
		apt-get install -y graphviz >/dev/null 2>&1 || \
		{ apt-get update >/dev/null && apt-get install -y graphviz >/dev/null; }; \
	else \
		echo "Graphviz's dot is missing: install it with 'sudo apt-get install graphviz'"; \
		echo "(macOS: 'brew install graphviz'); rendering tests will be skipped."; \
	fi

# Headless Chromium for the step-through page's browser test (tests/test_stepthrough_browser.py).
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

setup: $(BIN)/.installed graphviz chromium

lint: setup
	$(BIN)/ruff check .

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q

demo: setup
	$(BIN)/tinygraph demo --out out/

bench: setup
	$(BIN)/python benchmarks/bptt.py --save docs/benchmark_results.md

clean:
	rm -rf $(VENV) out .pytest_cache
