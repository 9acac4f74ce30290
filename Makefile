# The two commands of the README:
#   make run    install everything from this repo's pinned files, then run the main job end to end
#   make test   install, then lint and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.install-stamp

.PHONY: install run test lint clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/sales-insights run

lint: install
	$(BIN)/ruff check scripts tests

test: lint
	$(BIN)/python -m pytest

clean:
	rm -rf target logs warehouse/*.duckdb* .pytest_cache
