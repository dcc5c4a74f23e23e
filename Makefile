# zksh — everything a fresh machine needs is installed by these targets.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ZOOKEEPER_JAR := /usr/share/java/zookeeper.jar

.PHONY: help install zookeeper test lint demo bench clean

help:
	@echo "make demo   - play the master/worker walkthrough against a local ZooKeeper"
	@echo "make test   - lint and run the tests against real ZooKeeper servers"
	@echo "make bench  - time zksh against zkCli.sh on the same server"
	@echo "make install - create .venv with zksh in it"

$(BIN)/zksh: pyproject.toml
	@$(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	  echo "python3 -m venv is missing: installing python3-venv"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; \
	  rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

install: $(BIN)/zksh

# The Debian package brings ZooKeeper 3.8, zkCli.sh (the reference for our output) and Java.
zookeeper:
	@if [ ! -f $(ZOOKEEPER_JAR) ] || ! command -v java >/dev/null; then \
	  echo "ZooKeeper is not installed: apt-get install -y zookeeper"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zookeeper; \
	fi

lint: install
	$(BIN)/ruff check zkshell tests

test: install zookeeper lint
	TZ=UTC $(BIN)/python -m pytest -q

demo: install zookeeper
	$(BIN)/zksh play scenarios/walkthrough.yaml

bench: install zookeeper
	TZ=UTC $(BIN)/python benchmarks/bench.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
