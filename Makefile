# Two commands do all the set-up on a fresh machine with Python 3.11:
#   make demo   the headline silo'd-vs-responsive comparison
#   make test   the whole test suite (what .ci/run runs)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
CHROMIUM := /usr/bin/chromium
ASSETS   := .solara-assets

.PHONY: demo test lint bench clean chromium assets

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $(STAMP)

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

clean:
	rm -rf $(VENV) out .pytest_cache
