# Everything a fresh machine needs is installed by these targets; see README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# The test environment's torch; users' installs are not pinned (pyproject.toml).
TORCH_PIN := torch==2.14.1 torchvision==0.29.1
MANAGE := cd example_project && ../$(BIN)/python manage.py

.PHONY: setup build-deps system-deps browser-deps demo serve worker test test-sqlite test-postgres test-mysql lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# build-deps first: pip builds mysqlclient from source.
$(VENV)/.installed: $(BIN)/python pyproject.toml | build-deps
	$(BIN)/pip install -q $(TORCH_PIN)
	$(BIN)/pip install -q -e ".[testing,bench]"
	touch $@

setup: $(VENV)/.installed

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

lint: setup
	$(BIN)/ruff check .
	DJANGO_SETTINGS_MODULE=tests.settings PYTHONPATH=. $(BIN)/django-admin makemigrations --check --dry-run
	$(MANAGE) makemigrations --check --dry-run

test-sqlite: setup
	$(BIN)/python -m pytest

# The database-free tests (decoding, classifier, text extraction) and the browser test, which drives
# the example site on its own database, already ran in test-sqlite.
test-postgres: setup
	SMARTTAGS_TEST_DATABASE=postgres $(BIN)/python -m pytest -m "django_db and not browser"

# The same tests on MariaDB; .ci/start-mariadb (as root) installs and starts it on 127.0.0.1:3306 and creates
# the user smarttags when that user cannot log in.
test-mysql: setup
	@$(BIN)/python -c "import MySQLdb; MySQLdb.connect(host='127.0.0.1', user='smarttags', password='smarttags')" \
		2>/dev/null || bash .ci/start-mariadb
	SMARTTAGS_TEST_DATABASE=mysql $(BIN)/python -m pytest -m "django_db and not browser"

test: setup system-deps browser-deps lint test-sqlite test-postgres test-mysql

bench: setup
	$(BIN)/python bench/few_shot.py
	$(BIN)/python bench/throughput.py

clean:
	rm -rf $(VENV) example_project/db.sqlite3 example_project/media
