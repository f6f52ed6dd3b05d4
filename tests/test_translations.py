"""Every string editors read is translatable, and the French catalogue is complete and up to date."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import translation

PACKAGE = Path(__file__).resolve().parents[1] / "wagtail_smarttags"
CATALOGUE = PACKAGE / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def entries(po_text):
    """``{msgid: [msgstr, ...]}`` of a .po file (its header left out)."""
    found = {}
    for block in po_text.split("\n\n"):
        strings = {}
        key = None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                strings[key] = match.group(2)
            elif line.startswith('"') and key:
                strings[key] += line[1:-1]
        if strings.get("msgid"):
            found[strings["msgid"]] = [value for name, value in strings.items() if name.startswith("msgstr")]
            plurals[strings["msgid"]] = strings.get("msgid_plural")
    return found


plurals = {}


def test_the_french_catalogue_translates_every_string():
    catalogue = entries(CATALOGUE.read_text())
    assert len(catalogue) > 250
    untranslated = [msgid for msgid, translations in catalogue.items() if not all(translations)]
    assert untranslated == []
    assert "#, fuzzy" not in CATALOGUE.read_text().split("\n\n", 1)[1]


def placeholders(text):
    return set(re.findall(r"%\(\w+\)[sd]|\{\w*\}", text or ""))


def test_placeholders_survive_translation():
    for msgid, translations in entries(CATALOGUE.read_text()).items():
        plural = plurals[msgid]
        if plural is None:
            assert [placeholders(t) for t in translations] == [placeholders(msgid)], msgid
        else:
            # A singular may leave out the count ("The frame"), so the plural's placeholders bound both.
            assert all(placeholders(t) <= placeholders(msgid) | placeholders(plural) for t in translations), msgid
            assert placeholders(translations[-1]) == placeholders(plural), msgid


def test_the_catalogue_compiles_cleanly():
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(CATALOGUE)], check=True)
    compiled = CATALOGUE.with_suffix(".mo")
    assert compiled.stat().st_mtime >= CATALOGUE.stat().st_mtime - 1, "run compilemessages after editing the .po"


def test_makemessages_finds_nothing_the_catalogue_lacks(tmp_path):
    """makemessages on a copy of the package: the same strings as the committed catalogue, and no warnings."""
    copy = tmp_path / "wagtail_smarttags"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "static"))
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "fr", "--no-obsolete"],
        cwd=copy, capture_output=True, text=True, env={"DJANGO_SETTINGS_MODULE": "tests.settings",
                                                       "PYTHONPATH": str(PACKAGE.parent), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == ""
    regenerated = entries((copy / "locale" / "fr" / "LC_MESSAGES" / "django.po").read_text())
    assert set(regenerated) == set(entries(CATALOGUE.read_text()))


@pytest.mark.django_db
@override_settings(LANGUAGE_CODE="fr")
def test_an_editor_reads_the_tag_models_screens_in_french(admin_client):
    with translation.override("fr"):
        html = admin_client.get(reverse("tagmodel:index"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Modèles de mots-clés" in html or "modèle de mots-clés" in html.lower()


@pytest.mark.django_db
@override_settings(LANGUAGE_CODE="fr")
def test_an_error_the_worker_recorded_reads_in_the_editors_language(
    admin_client, settings, django_capture_on_commit_callbacks
):
    """The worker records why a file failed in English with its message id; each editor reads it in their language."""
    from django.utils.html import escape

    from wagtail_smarttags.models import TaggingState
    from wagtail_smarttags.wagtail_hooks import moderation_url

    from .datasets import clothing_images
    from .factories import create_image
    from .helpers import state_of, uploaded

    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "MAX_FILE_SIZE": 1000}
    photo = clothing_images("validation", ["hat"], per_class=1)["hat"][0]
    image = uploaded(django_capture_on_commit_callbacks, create_image, photo)
    state = state_of(image)
    assert state.status == TaggingState.Status.FAILED
    assert "more than the 1,000 bytes allowed" in state.error
    assert state.error_record["message"] == "The file is %(size)s bytes, more than the %(limit)s bytes allowed."
    with translation.override("fr"):
        french = state.error_message
        html = admin_client.get(moderation_url("image", image.pk), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert french != state.error and "octets" in french
    assert "1\u202f000" in french or "1\xa0000" in french, french  # French groups thousands with a space
    assert escape(french) in html
