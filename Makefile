# Two commands bring a fresh Debian/Ubuntu machine from nothing to done:
#   make demo   - install what is missing, then run the simulated demo (scan, map, pick, place, report)
#   make test   - install what is missing, then ruff, the import-layering check and pytest
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= workstation,sim,speech,viz,client,cluster,lidar,dev
APT_PACKAGES := libusb-1.0-0 libegl1 libgl1-mesa-dri libegl-mesa0 libgomp1 espeak-ng
STAMPS := $(VENV)/.stamps
export MUJOCO_GL ?= egl
export PYOPENGL_PLATFORM ?= egl
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: setup demo test lint layers pytest bench clean system-deps

setup: $(STAMPS)/system $(STAMPS)/project
	@echo "ovmm is installed in $(VENV): run 'source $(VENV)/bin/activate' to put 'ovmm' on your PATH (or call $(VENV)/bin/ovmm)"

# Debian packages: installed when running as root, otherwise the exact command to run is printed.
$(STAMPS)/system:
	@mkdir -p $(STAMPS)
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "Missing Debian packages:$$missing"; \
	    echo "Run:  sudo apt-get update && sudo apt-get install -y$$missing   then run make again."; \
	    exit 1; \
	  fi; \
	fi
	@touch $@

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install python3 (>= 3.10) and python3-venv"; exit 1; }
	$(PYTHON) -m venv $(VENV) || { echo "Could not create $(VENV): on Debian/Ubuntu run: sudo apt-get install -y python3-venv"; exit 1; }

# torch first, so nothing else pulls a multi-GB CUDA build; re-installs only when pyproject.toml changes.
$(STAMPS)/project: pyproject.toml | $(PY)
	@mkdir -p $(STAMPS)
	@$(PY) -c "import torch" 2>/dev/null || { echo "Installing $(TORCH_SPEC)"; $(PIP) install -q "$(TORCH_SPEC)"; }
	@echo "Installing ovmm[$(EXTRAS)] into $(VENV)"
	@$(PIP) install -q -e ".[$(EXTRAS)]"
	@touch $@

demo: setup
	$(VENV)/bin/ovmm demo --out out/demo

test: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache
	$(PY) -m pytest -q -p no:cacheprovider

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
