"""Learning from moderation in the admin: the opt-in, the decisions under each tag's examples, the versions."""

import pytest
from django.urls import reverse

from wagtail_smarttags.models import SmartTag, TagModel
from wagtail_smarttags.training import service as training

from ..datasets import clothing_images
from ..factories import add_smart_tags, create_image, create_tag_model
from .test_tag_models import edit_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(settings):
    """A hat/shoes model, a photo whose "hat" an editor promoted and one whose "hat" an editor removed."""
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False, "TRAINING_LIBRARY_SIZE": 0}
    tag_model = create_tag_model("Garments", clothing_images("train", ["hat", "shoes"], per_class=10))
    photos = clothing_images("validation", ["hat", "pants"], per_class=1)
    promoted, removed = create_image(photos["hat"][0]), create_image(photos["pants"][0])
    add_smart_tags(promoted, [("hat", 0.8, SmartTag.State.PROMOTED)])
    add_smart_tags(removed, [("hat", 0.6, SmartTag.State.REMOVED)])
    return tag_model, promoted, removed


def section(html, tag):
    return html.split(f'data-smarttags-decisions="{tag}"', 1)[1].split("</ul>\n</div>", 1)[0]


def test_the_edit_screen_shows_decisions_under_the_tag_and_whether_they_are_learnt(admin_client, decided):
    tag_model, promoted, removed = decided
    url = reverse("tagmodel:edit", args=[tag_model.pk])
    html = admin_client.get(url).content.decode()
    assert 'name="learn_from_moderation"' in html
    hat = section(html, "hat")
    assert "not learnt: tick “Learn from editors' decisions” above" in hat
    assert 'data-smarttags-promoted="1"' in hat and 'data-smarttags-removed="1"' in hat
    assert reverse("wagtailimages:edit", args=[promoted.pk]) in hat.split('data-smarttags-decided="removed"')[0]
    assert reverse("wagtailimages:edit", args=[removed.pk]) in hat.split('data-smarttags-decided="removed"')[1]
    assert 'data-smarttags-decisions="shoes"' not in html, "no decisions on shoes, no section"

    admin_client.post(url, {**edit_data(tag_model), "learn_from_moderation": "on"})
    tag_model.refresh_from_db()
    assert tag_model.learn_from_moderation
    assert "learnt at the next training" in section(admin_client.get(url).content.decode(), "hat")


def test_the_versions_screen_says_what_a_version_learnt_from_editors(admin_client, decided):
    tag_model, _, _ = decided
    TagModel.objects.filter(pk=tag_model.pk).update(learn_from_moderation=True)
    tag_model.refresh_from_db()
    training.request_training(tag_model, run_now=True)
    html = admin_client.get(reverse("tagmodel:versions", args=[tag_model.pk])).content.decode()
    assert "hat: 11 <small>(1 promoted)</small>" in html and "shoes: 10" in html
    assert (
        "Learnt from editors' decisions: 1 promoted smart tags as examples, 1 removed ones as images its tags are not."
        in " ".join(html.split())
    )
