PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
OUT    ?= audio_out

.PHONY: demo test test-fast lint soak install dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

demo: $(VENV)/.installed
	$(BIN)/vnreader demo --out $(OUT)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check reader bench tests
	$(BIN)/mypy reader

test: lint
	$(BIN)/python -m pytest -q

# the edit-run loop: no browser, kill, fault, real-render or e2e tests (pyproject.toml markers)
test-fast: $(VENV)/.dev-installed
	$(BIN)/python -m pytest -q -m "not slow and not soak"

soak: $(VENV)/.dev-installed
	$(BIN)/python -m pytest -q -m soak

clean:
	rm -rf $(VENV) build *.egg-info
