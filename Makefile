# Everything a fresh machine needs is installed by these targets; see README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The test environment's torch; users' installs are not pinned (pyproject.toml).
TORCH_PIN := torch==2.14.1 torchvision==0.29.1
MANAGE := cd example_project && ../$(BIN)/python manage.py

# The newest supported pair, Django 6.1 with Wagtail 8, on Python 3.12 (Django 6 needs it), runs the
# whole suite; $(VENV) (Python 3.11, Django 5.2 LTS, Wagtail 8) runs the demo and the matrix's first pair.
PYTHON_NEWEST ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) $(shell command -v python3.12))
NEWEST ?= .venv-newest
NEWEST_PAIR := "Django>=6.1,<6.2" "wagtail>=8.0,<9"
# The other pairs of the supported range, each a SQLite run (of what: MATRIX_VERSION_TESTS below): Django
# and Wagtail installed into a folder that goes first on PYTHONPATH of a base environment of the same Python.
MATRIX_DIR := .matrix
MATRIX_PAIRS := dj52-wagtail74 dj52-wagtail80 dj60-wagtail74 dj60-wagtail80 dj61-wagtail74
MATRIX_TESTS := -m "not browser"
# The ends of the range run the whole suite: the newest pair (test-sqlite and the database runs) and the oldest,
# dj52-wagtail74, on Python 3.11. The pairs between run what touches Django's and Wagtail's own APIs: the admin
# screens, the APIs, search, the task queues, checks, commands, migrations, templates and translations. The
# pipeline, training, ML and the reader child use nothing that changes between the ends.
MATRIX_VERSION_TESTS := tests/admin tests/api tests/search tests/queues $(wildcard tests/test_*.py)

.PHONY: setup setup-newest setup-all test-matrix test-lane-databases test-lane-matrix build-deps system-deps browser-deps demo serve worker test test-sqlite test-postgres test-mysql lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# build-deps first: pip builds mysqlclient from source.
$(VENV)/.installed: $(BIN)/python pyproject.toml | build-deps
	$(BIN)/pip install -q $(TORCH_PIN)
	$(BIN)/pip install -q -e ".[testing,bench]"
	touch $@

setup: $(VENV)/.installed

$(NEWEST)/bin/python:
	@test -n "$(PYTHON_NEWEST)" || { echo "Python 3.12 is needed for Django 6 (set PYTHON_NEWEST)."; exit 1; }
	$(PYTHON_NEWEST) -m venv $(NEWEST)

$(NEWEST)/.installed: $(NEWEST)/bin/python pyproject.toml | build-deps
	$(NEWEST)/bin/pip install -q $(TORCH_PIN)
	$(NEWEST)/bin/pip install -q -e ".[testing,bench]" $(NEWEST_PAIR)
	touch $@

setup-newest: $(NEWEST)/.installed

# dj52-* pairs run on $(VENV) (Python 3.11), dj6* on $(NEWEST) (Python 3.12); dj52-wagtail80 is $(VENV) itself.
matrix_base = $(if $(filter dj52-%,$(1)),$(VENV),$(NEWEST))
matrix_django = $(patsubst dj52,Django>=5.2$(comma)<5.3,$(patsubst dj60,Django>=6.0$(comma)<6.1,$(patsubst dj61,Django>=6.1$(comma)<6.2,$(firstword $(subst -, ,$(1))))))
matrix_wagtail = $(patsubst wagtail74,wagtail>=7.4$(comma)<7.5,$(patsubst wagtail80,wagtail>=8.0$(comma)<9,$(lastword $(subst -, ,$(1)))))
comma := ,

$(MATRIX_DIR)/%/.installed: pyproject.toml | setup setup-newest
	rm -rf $(MATRIX_DIR)/$*
	$(call matrix_base,$*)/bin/pip install -q --no-deps --target $(MATRIX_DIR)/$* "$(call matrix_django,$*)" "$(call matrix_wagtail,$*)"
	touch $@

# A SQLite run of each pair (SMARTTAGS_MATRIX_PAIRS="dj60-wagtail74" runs some).
test-matrix: $(addprefix $(MATRIX_DIR)/,$(addsuffix /.installed,$(or $(SMARTTAGS_MATRIX_PAIRS),$(MATRIX_PAIRS))))
	@set -e; for pair in $(or $(SMARTTAGS_MATRIX_PAIRS),$(MATRIX_PAIRS)); do \
		case $$pair in dj52-*) base=$(VENV);; *) base=$(NEWEST);; esac; \
		echo "== $$pair on $$base"; \
		PYTHONPATH=$(MATRIX_DIR)/$$pair $$base/bin/python -c "import django, wagtail, sys; print('Python', sys.version.split()[0], 'Django', django.__version__, 'Wagtail', wagtail.__version__)"; \
		case $$pair in dj52-wagtail74) only="";; *) only="$(MATRIX_VERSION_TESTS)";; esac; \
		PYTHONPATH=$(MATRIX_DIR)/$$pair $$base/bin/python -m pytest -q -p no:cacheprovider $(MATRIX_TESTS) $$only; \
	done

# Debian packages pip needs to build mysqlclient, the MariaDB driver, which has no wheels for Linux: the
# client library's headers, pkg-config, a C compiler and Python's headers.
build-deps:
	@missing=""; \
	command -v pkg-config >/dev/null || missing="$$missing pkg-config"; \
	found=""; for pc in mysqlclient mariadb libmariadb; do pkg-config --exists $$pc 2>/dev/null && found=1; done; \
	[ -n "$$found" ] || missing="$$missing libmariadb-dev"; \
	command -v cc >/dev/null || missing="$$missing gcc"; \
	[ -f "$$($(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("include"))')/Python.h" ] || missing="$$missing python3-dev"; \
	if [ -z "$$missing" ]; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	else echo "Not root or no apt-get: install$$missing yourself to build mysqlclient, the MariaDB driver."; fi

# Debian packages: catdoc converts legacy DOC/PPT; Chromium drives the admin end-to-end tests, and npm
# installs axe-core, which they inject to check the admin's accessibility.
system-deps:
	@if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		missing=""; \
		command -v catdoc >/dev/null || missing="$$missing catdoc"; \
		command -v chromium >/dev/null || missing="$$missing chromium"; \
		command -v npm >/dev/null || missing="$$missing npm"; \
		if [ -n "$$missing" ]; then apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; fi; \
	else echo "Not root or no apt-get: install catdoc, chromium and npm yourself for DOC/PPT and browser tests."; fi

browser-deps: tests/browser/node_modules/axe-core/axe.min.js

tests/browser/node_modules/axe-core/axe.min.js: tests/browser/package.json tests/browser/package-lock.json | system-deps
	cd tests/browser && npm ci --no-audit --no-fund --silent
	touch $@  # npm keeps the package's own dates, older than package.json

demo: setup
	$(MANAGE) migrate --noinput -v 0
	$(MANAGE) shell -c "from django.contrib.auth import get_user_model; U = get_user_model(); U.objects.filter(username='admin').exists() or U.objects.create_superuser('admin', 'admin@example.com', 'changeme')"
	$(MANAGE) smarttags_demo

serve: setup
	$(MANAGE) runserver 127.0.0.1:8000

worker: setup
	$(MANAGE) qcluster

lint: setup-newest
	$(NEWEST)/bin/ruff check .
	PYTHONPATH=. $(NEWEST)/bin/mypy
	DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=. $(NEWEST)/bin/django-admin makemigrations --check --dry-run
	cd example_project && ../$(NEWEST)/bin/python manage.py makemigrations --check --dry-run

test-sqlite: setup-newest
	$(NEWEST)/bin/python -m pytest

# The database-free tests (decoding, classifier, text extraction) and the browser test, which drives
# the example site on its own database, already ran in test-sqlite.
test-postgres: setup-newest
	SMARTTAGS_TEST_DATABASE=postgres $(NEWEST)/bin/python -m pytest -m "django_db and not browser"

# The same tests on MariaDB; .ci/start-mariadb (as root) installs and starts it on 127.0.0.1:3306 and creates
# the user smarttags when that user cannot log in.
test-mysql: setup-newest
	@$(NEWEST)/bin/python -c "import MySQLdb; MySQLdb.connect(host='127.0.0.1', user='smarttags', password='smarttags')" \
		2>/dev/null || bash .ci/start-mariadb
	SMARTTAGS_TEST_DATABASE=mysql $(NEWEST)/bin/python -m pytest -m "django_db and not browser"

# The whole suite on the newest pair (SQLite with the browser test, PostgreSQL, MariaDB) and a SQLite run
# of every other supported pair. After the SQLite run, which has the machine to itself (the browser test
# and the readers' time limits want it), two lanes share the two cores: the database runs, and the
# matrix. Each lane's worker tests use a Redis database of their own.
test: setup-all system-deps browser-deps lint
	$(MAKE) test-sqlite
	$(MAKE) -j2 --output-sync=target test-lane-databases test-lane-matrix

setup-all:
	$(MAKE) -j2 setup setup-newest

test-lane-databases:
	$(MAKE) test-postgres SMARTTAGS_TEST_REDIS_DB=14
	$(MAKE) test-mysql SMARTTAGS_TEST_REDIS_DB=14
	$(MAKE) test-matrix SMARTTAGS_MATRIX_PAIRS="dj61-wagtail74" SMARTTAGS_TEST_REDIS_DB=14

test-lane-matrix:
	$(MAKE) test-matrix SMARTTAGS_MATRIX_PAIRS="dj52-wagtail74 dj52-wagtail80 dj60-wagtail74 dj60-wagtail80" \
		SMARTTAGS_TEST_REDIS_DB=15

bench: setup
	$(BIN)/python bench/few_shot.py
	$(BIN)/python bench/throughput.py

clean:
	rm -rf $(VENV) $(NEWEST) $(MATRIX_DIR) example_project/db.sqlite3 example_project/media
