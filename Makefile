# Songscape: `make run` starts the app, `make test` runs every test. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test test-fast lint venv browser bench clean

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
# musicnn's trained checkpoints (read by core/features/musicnn; its TensorFlow code is never imported)
	$(PY) -m pip install --quiet --no-deps musicnn==0.1.0
	touch $(STAMP)

# Test-only tools (pytest, playwright, ruff): installed by `make test`, not by `make run`.
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(DEV_STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/streamlit run app.py

# Real-browser tests need Debian's Chromium; as root we install it, elsewhere the tests skip with a reason.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "WARNING: could not install chromium; browser tests will skip"; \
	  else echo "NOTE: $(CHROMIUM) missing and not root: browser tests will be skipped"; fi; \
	fi

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check app.py pages core tests bench

test: $(DEV_STAMP) browser lint
	$(PY) -m pytest tests -ra

test-fast: $(DEV_STAMP)
	$(PY) -m pytest tests -ra -m "not browser and not slow"

bench: $(STAMP)
	$(PY) bench/extract.py && $(PY) bench/train.py && $(PY) bench/interactive.py

clean:
	rm -rf $(VENV) .pytest_cache
