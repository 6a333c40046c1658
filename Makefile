# Two entry points (see README): `make run` and `make test`. Both work from a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# torch is pinned to the CPU 2.13.0 build that lies on the development machines: an open
# requirement would make pip download a CUDA build of several GB.
TORCH  ?= torch==2.13.0

# AdapterHub `adapters` pins transformers ~=4.57, older than the project's; its checks run in a venv of their own.
ADAPTERS_VENV ?= .venv-adapters

.PHONY: run test install install-test install-adapters system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e .

install-test: $(BIN)/python
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[test]"

$(ADAPTERS_VENV)/bin/python:
	$(PYTHON) -m venv $(ADAPTERS_VENV)
	$(ADAPTERS_VENV)/bin/python -m pip install -q --upgrade pip

install-adapters: $(ADAPTERS_VENV)/bin/python
	$(ADAPTERS_VENV)/bin/pip install -q "$(TORCH)" "transformers~=4.57.6" "adapters==1.3.0"

# Browser tests drive Debian's headless Chromium; PNG rendering of diagrams uses cairo; the LaTeX
# tables are compiled with Debian's pdflatex and xelatex (adjustbox is in latex-extra, lmodern for T1).
TEX_PACKAGES = texlive-latex-base texlive-latex-recommended texlive-latex-extra texlive-xetex texlive-fonts-recommended lmodern
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! ldconfig -p | grep -q libcairo.so.2 \
	    || ! command -v pdflatex >/dev/null 2>&1 || ! command -v xelatex >/dev/null 2>&1 || ! kpsewhich adjustbox.sty >/dev/null 2>&1; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver libcairo2 $(TEX_PACKAGES) >/dev/null; \
	fi

run: install
	$(BIN)/peftref list
	$(BIN)/peftref query --explain "methods with parallel insertion on FFN"
	$(BIN)/peftref table --layout peft-ref --format md

test: system-deps install-test install-adapters
	PEFTREF_ADAPTERS_PYTHON=$(ADAPTERS_VENV)/bin/python $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) $(ADAPTERS_VENV) build dist *.egg-info .pytest_cache
