# zksh — everything a fresh machine needs is installed by these targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ZOOKEEPER_JAR := /usr/share/java/zookeeper.jar

.PHONY: help install bytecode zookeeper test lint demo bench clean

help:
	@echo "make demo   - play the master/worker walkthrough against a local ZooKeeper"
	@echo "make test   - lint and run the tests against real ZooKeeper and the embedded server"
	@echo "make bench  - time zksh against zkCli.sh on the same server"
	@echo "make install - create .venv with zksh in it (again after a source change)"

SOURCES := $(shell find zkshell -name '*.py')

# The virtualenv and the dependencies: redone only when pyproject.toml changes.
$(VENV)/.deps: pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv is missing: installing python3-venv"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q '.[test]'
	@touch $@

# zksh itself, installed as `pip install .` installs it for users, again whenever a source
# changes.  Not editable on purpose: setuptools' editable finder is imported at every Python
# start and costs a one-shot command 15-30 ms.  The tests run the checkout's code directly.
$(BIN)/zksh: $(VENV)/.deps $(SOURCES)
	$(BIN)/python -m pip install -q --no-deps .
	@$(MAKE) --no-print-directory bytecode
	@touch $@

# The tests run zkshell from the checkout; compiled once here, so that each of their many
# `python -m zkshell` starts does not compile it again (PYTHONDONTWRITEBYTECODE may be set).
bytecode:
	@$(BIN)/python -m compileall -q zkshell >/dev/null

install: $(BIN)/zksh

# The Debian package brings ZooKeeper 3.8, zkCli.sh (the reference for our output) and Java.
zookeeper:
	@if [ ! -f $(ZOOKEEPER_JAR) ] || ! command -v java >/dev/null; then \
	  echo "ZooKeeper is not installed: apt-get install -y zookeeper"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zookeeper; \
	fi

lint: install
	$(BIN)/ruff check zkshell tests
	$(BIN)/lint-imports --no-cache

test: install zookeeper lint
	TZ=UTC $(BIN)/python -m pytest -q

demo: install zookeeper
	$(BIN)/zksh play scenarios/walkthrough.yaml

bench: install zookeeper
	TZ=UTC $(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
