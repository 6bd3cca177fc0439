# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make demo   the headline silo'd-vs-responsive comparison
#   make test   the whole test suite (what .ci/run runs)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
ASSETS   := .solara-assets

.PHONY: demo test lint bench clean chromium assets lock validation

# Installs are repeatable: every package of the dependency tree is pinned in constraints.txt (see `make lock`).
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -c constraints.txt --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[test]"
	touch $(STAMP)

# Re-pin constraints.txt to the newest versions pyproject.toml allows, resolved in a fresh venv; then run
# `make test` and commit constraints.txt. Pins are for this Python (3.11) on Linux x86_64.
LOCKVENV := .venv-lock
lock:
	rm -rf $(LOCKVENV)
	$(PYTHON) -m venv $(LOCKVENV)
	$(LOCKVENV)/bin/python -m pip install --quiet --upgrade pip
	$(LOCKVENV)/bin/python -m pip install --quiet -e ".[test]"
	{ echo "# Every package orgsim's test install uses, pinned: written by \`make lock\` ($$($(LOCKVENV)/bin/python -V))."; \
	  echo "# \`make\` installs with it (pip install -c constraints.txt -e \".[test]\"), so a sweep can be re-run later."; \
	  $(LOCKVENV)/bin/python -m pip freeze --all --exclude-editable; } > constraints.txt.tmp
	mv constraints.txt.tmp constraints.txt
	rm -rf $(LOCKVENV)

demo: $(STAMP)
	$(VENV)/bin/orgsim compare scenarios/demand-shock.toml --out out/demand-shock

# Browser tests run in their own pytest process (Playwright's sync API and Solara's test tools clash).
test: $(STAMP) chromium assets
	$(PY) -m ruff check .
	$(PY) -m pytest -m "not browser"
	SOLARA_ASSETS_PROXY_CACHE_DIR=$(CURDIR)/$(ASSETS) $(PY) -m pytest -m browser tests/browser

# Debian's chromium for the browser tests (Playwright drives it; no browser is ever downloaded).
# Installed when missing if we are root with apt-get (as on CI); otherwise those tests say why they skip.
chromium:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "no $(CHROMIUM), and installing it needs root and apt-get: the browser tests will be skipped"; fi

# Solara's JavaScript and CSS from the npm registry, fetched once: the dashboard then works offline.
assets: $(STAMP)
	$(PY) -m orgsim.dashboard.assets $(ASSETS)

bench: $(STAMP)
	$(PY) benchmarks/bench_model.py

# docs/validation.md, its figures and the README's validation summary, from the current code (minutes).
validation: $(STAMP)
	$(PY) docs/scripts/validation.py

clean:
	rm -rf $(VENV) out .pytest_cache
