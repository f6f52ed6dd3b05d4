"""The source distribution carries its tests, and they run from it against the code it ships."""

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from .datasets import SHARED_DATASETS

REPOSITORY = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    pytest.importorskip("build", reason="the testing extra installs build")
    out = tmp_path_factory.mktemp("sdist")
    subprocess.run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(out), str(REPOSITORY)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    [archive] = out.glob("wagtail_smarttags-*.tar.gz")
    with tarfile.open(archive) as sdist:
        sdist.extractall(out, filter="data")
    [root] = [path for path in out.iterdir() if path.is_dir()]
    return root


def test_the_sdist_has_the_licence_changelog_translations_and_tests(unpacked):
    for name in ("LICENSE", "CHANGELOG.md", "README.md", "pyproject.toml", "tests/conftest.py",
                 "tests/testapp/migrations/0001_initial.py", "example_project/manage.py",
                 "tests/fixtures/modelsearch/search.json",
                 "wagtail_smarttags/locale/fr/LC_MESSAGES/django.mo",
                 "wagtail_smarttags/templates/wagtail_smarttags/tags/smart_tags.html"):  # fmt: skip
        assert (unpacked / name).is_file(), name
    assert not list(unpacked.rglob("*.sqlite3")) and not list(unpacked.rglob("node_modules"))


def test_its_tests_run_against_its_own_code(unpacked):
    env = {
        **os.environ,
        "PYTHONPATH": str(unpacked),
        "SMARTTAGS_SHARED_DATASETS": str(SHARED_DATASETS),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    where = subprocess.run(
        [sys.executable, "-c", "import wagtail_smarttags; print(wagtail_smarttags.__file__)"],
        cwd=unpacked, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(unpacked))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_checks.py",
         "tests/test_templatetags.py", "tests/test_translations.py", "tests/api"],
        cwd=unpacked, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    assert " passed" in result.stdout.splitlines()[-1]
