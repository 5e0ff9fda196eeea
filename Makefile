# Two commands on a fresh machine: `make run` and `make test`.
# Both create .venv (once), install bptui with its test tools, then run.
# `make check` adds the pinned linters: formatting, lint rules, types, import contracts.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CHECK_STAMP := $(VENV)/.installed-check
# What ruff formats and lints.
SOURCES ?= bptui tests bench
# torch is large: prefer the CPU-only build (about 200 MB instead of several GB).
TORCH_VERSION   ?= 2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
ARGS ?=
# Test workers: most of the suite waits on real processes, so more workers than
# cores pays (measured in TESTING.md). TEST_JOBS=0 runs in one process. Work
# stealing: a worker that is done takes tests another still holds, so no one is
# left with a queue of long ones at the end.
TEST_JOBS ?= 4

# The browser students' tests drive a headless Chromium (tests/browser: puppeteer-core
# and @sparticuz/chromium, versions locked); installed with npm when it is there.
BROWSER_STAMP := tests/browser/node_modules/.installed

.PHONY: run test check trace bench mutate clean install catalogues browser

run: $(STAMP)
	$(BIN)/bptui $(ARGS)

test: $(STAMP) browser
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist worksteal $(ARGS)

browser:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(BROWSER_STAMP); \
	else echo "npm not found: the browser tests will be skipped (install Node.js 20+ and npm)"; fi

$(BROWSER_STAMP): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund
	touch $@

check: $(CHECK_STAMP)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/mypy
	$(BIN)/lint-imports

trace: $(STAMP)
	$(BIN)/bptui trace $(ARGS)

bench: $(STAMP) browser
	$(BIN)/python bench/run_all.py

# Mutation testing of bptui/lesson, bptui/trace.py, bptui/cli.py, bptui/serve and
# the quiz, handout and jump modules of the app (config in pyproject.toml, method
# and figures in TESTING.md). Slow: not part of `make test`
# or CI. Bounded by MUTATE_TIMEOUT seconds; a run that is stopped resumes where it
# was the next time. Pick mutants with ARGS, e.g. ARGS='"bptui.lesson.ops*"'.
MUTATE_TIMEOUT ?= 7200
MUTATE_CHILDREN ?= 2
mutate: $(STAMP)
	$(BIN)/python -m pip install -q -e ".[mutate]"
	HYPOTHESIS_PROFILE=mutate OMP_NUM_THREADS=1 timeout $(MUTATE_TIMEOUT) \
	  $(BIN)/mutmut run --max-children $(MUTATE_CHILDREN) $(ARGS) || test $$? = 124
	$(BIN)/mutmut results

install: $(STAMP)

# Compile every translation (bptui/locale/<language>/LC_MESSAGES/<area>.po) to the
# .mo bptui reads; the .mo files are committed, and a test checks they are current.
catalogues: $(STAMP)
	for po in bptui/locale/*/LC_MESSAGES/*.po; do \
	  $(BIN)/pybabel compile --statistics -i "$$po" -o "$${po%.po}.mo" || exit 1; \
	done

$(STAMP): pyproject.toml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "bptui needs Python 3.10 or newer; found " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# The CPU build of torch: from a local wheel or index if one offers it,
	@# else from PyTorch's CPU index, else whatever pip finds (may be the CUDA build).
	$(BIN)/python -c 'import torch' 2>/dev/null \
	  || $(BIN)/python -m pip install "torch==$(TORCH_VERSION)+cpu" \
	  || $(BIN)/python -m pip install --index-url $(TORCH_CPU_INDEX) "torch>=2.2" \
	  || $(BIN)/python -m pip install "torch>=2.2"
	$(BIN)/python -m pip install -e ".[test]"
	touch $(STAMP)

$(CHECK_STAMP): $(STAMP)
	$(BIN)/python -m pip install -e ".[test,check]"
	touch $(CHECK_STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info mutants tests/browser/node_modules
