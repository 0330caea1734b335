# newsbot: `make run` and `make test` work on a fresh clone with only Python 3.11+ and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint typecheck pytest bench browser container-tools image catalogs clean

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'  # bench: the tests check reader reads the farm
	touch $(STAMP)

run: install
	$(BIN)/newsbot $$( if [ -n "$$BOT_TOKEN" ] || grep -qsE '^BOT_TOKEN=.+' .env; then echo run; else echo sandbox; fi )

lint: install
	$(BIN)/ruff check bot tests bench container
	$(BIN)/ruff format --check bot tests bench container

typecheck: install
	$(BIN)/mypy --strict bot

# The sandbox's browser test drives Debian's Chromium with Playwright (no browser download needed).
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { \
	  echo "installing Debian's chromium for the browser test"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; }

# The container image (Dockerfile), built with podman from a debootstrapped Debian where no registry is
# reachable (container/build.sh); the container test builds it too. Podman comes from Debian when missing;
# where it cannot be installed the test is skipped and says so.
container-tools:
	@bash container/build.sh --tools || echo "no podman here: tests/test_container.py will be skipped"

image:
	bash container/build.sh

pytest: install browser container-tools
	$(BIN)/python -m pytest

test: lint typecheck pytest

# Reader-facing texts: extract the message ids (Babel) into bot/locale/newsbot.pot and merge them into each
# language's .po (new ones come out untranslated: tests/core/test_catalogs.py fails until they are done).
# The bot reads the .po files themselves (bot/adapters/catalogs.py): nothing to compile.
CATALOG_KEYWORDS := --no-default-keywords -k t -k msg -k N_ -k plural:1,2 -k Command:3
catalogs: install
	$(BIN)/pybabel extract -F babel.cfg $(CATALOG_KEYWORDS) --no-location --sort-output \
		--project newsbot --omit-header -o bot/locale/newsbot.pot .
	$(BIN)/pybabel update -i bot/locale/newsbot.pot -d bot/locale -D newsbot --no-fuzzy-matching \
		--ignore-obsolete --width 110

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
