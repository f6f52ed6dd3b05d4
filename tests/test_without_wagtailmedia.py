"""wagtailmedia is optional: without it the app starts, checks clean and tags images and documents only."""

import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]

SCRIPT = """
import django
django.setup()
from django.apps import apps
from django.core.management import call_command
from wagtail_smarttags.pipeline.kinds import get_asset_models
from wagtail_smarttags.wagtail_hooks import smart_tags_link_on_asset_edit_pages
assert not apps.is_installed("wagtailmedia")
call_command("check", fail_level="WARNING")
print(sorted(get_asset_models()))
"""


def test_the_app_runs_without_wagtailmedia():
    env = {**os.environ, "SMARTTAGS_TEST_WITHOUT_MEDIA": "1", "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "['document', 'image']"
