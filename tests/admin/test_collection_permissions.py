"""The training screens as an editor whose image rights cover one collection: they see, add and echo only
images they may choose, and the examples others chose elsewhere stay as they are."""

import numpy as np
import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag
from wagtail.images import get_image_model
from wagtail.models import GroupCollectionPermission

from wagtail_smarttags.models import TagModel, TagModelTag, TrainingExample, TrainingVersion

from ..factories import create_image, root_collection, solid_image_bytes
from .test_tag_models import edit_data

pytestmark = pytest.mark.django_db


def image_in(collection, title):
    image = create_image(solid_image_bytes(), title=title, name=f"{title.replace(' ', '-').lower()}.png")
    image.collection = collection
    image.save()
    return image


def renditions_of(images):
    return get_image_model().get_rendition_model().objects.filter(image__in=images)


@pytest.fixture
def site(django_user_model):
    """Collections A and B; a model whose hat has two examples in A and one in B, and whose shoes have one in B;
    an editor who may choose, add and change images in A only, and edit and train tag models."""
    root = root_collection()
    collection_a, collection_b = root.add_child(name="A"), root.add_child(name="B")
    group = Group.objects.create(name="Collection A editors")
    for codename in ("choose_image", "add_image", "change_image"):
        GroupCollectionPermission.objects.create(
            group=group, collection=collection_a, permission=Permission.objects.get(codename=codename)
        )
    editor = django_user_model.objects.create_user("ann", "ann@example.com", "password")
    editor.groups.add(group)
    editor.user_permissions.add(
        *Permission.objects.filter(codename__in=["access_admin", "change_tagmodel", "train_tagmodel"])
    )
    a_hats = [image_in(collection_a, "Open hat one"), image_in(collection_a, "Open hat two")]
    open_spare = image_in(collection_a, "Open spare")
    secret_hat, secret_shoe, secret_spare = (
        image_in(collection_b, title) for title in ("Secret hat", "Secret shoe", "Secret spare")
    )
    tag_model = TagModel.objects.create(title="Garments")
    hat, shoes = Tag.objects.create(name="hat"), Tag.objects.create(name="shoes")
    for position, tag in enumerate((hat, shoes)):
        TagModelTag.objects.create(tag_model=tag_model, tag=tag, sort_order=position)
    for tag, image in [(hat, a_hats[0]), (hat, a_hats[1]), (hat, secret_hat), (shoes, secret_shoe)]:
        TrainingExample.objects.create(tag_model=tag_model, tag=tag, image=image)
    renditions_of(get_image_model().objects.all()).delete()
    return {
        "editor": editor, "tag_model": tag_model, "hat": hat, "shoes": shoes, "a_hats": a_hats,
        "open_spare": open_spare, "secret": [secret_hat, secret_shoe, secret_spare],
    }  # fmt: skip


def examples_of(tag_model, tag):
    return set(tag_model.examples.filter(tag=tag).values_list("image__title", flat=True))


def test_the_edit_screen_shows_only_images_the_editor_may_choose(client, site):
    client.force_login(site["editor"])
    html = client.get(reverse("tagmodel:edit", args=[site["tag_model"].pk])).content.decode()
    assert "Open hat one" in html and "Open hat two" in html
    assert "Secret" not in html
    for image in site["secret"]:
        assert f'value="{image.pk}"' not in html
    assert not renditions_of(site["secret"]).exists(), "no rendition is made of an image the editor may not see"
    assert "And 1 example in a collection you cannot choose from" in html
    assert html.count("data-smarttags-unseen-examples") == 2  # hat's and shoes'


def test_a_superuser_sees_every_example(admin_client, site):
    html = admin_client.get(reverse("tagmodel:edit", args=[site["tag_model"].pk])).content.decode()
    assert "Secret hat" in html and "Secret shoe" in html
    assert "data-smarttags-unseen-examples" not in html


def test_a_crafted_post_cannot_add_an_image_the_editor_may_not_choose(client, site):
    client.force_login(site["editor"])
    tag_model, hat, shoes = site["tag_model"], site["hat"], site["shoes"]
    secret_spare = site["secret"][2]
    data = edit_data(tag_model, {hat.pk: [i.pk for i in site["a_hats"]], shoes.pk: [secret_spare.pk]})
    response = client.post(reverse("tagmodel:edit", args=[tag_model.pk]), data)
    assert response.status_code == 200
    assert f"{secret_spare.pk} is not one of the available choices" in str(response.context["form"].errors)
    html = response.content.decode()
    assert "Secret" not in html, "an invalid form echoes no title of an image the editor may not see"
    assert not renditions_of(site["secret"]).exists()
    assert examples_of(tag_model, shoes) == {"Secret shoe"}


def test_saving_keeps_the_examples_the_editor_cannot_see(client, site):
    client.force_login(site["editor"])
    tag_model, hat, shoes = site["tag_model"], site["hat"], site["shoes"]
    # Ann takes one of her hats out and gives shoes her spare image: what she sees is all she sends.
    data = edit_data(tag_model, {hat.pk: [site["a_hats"][0].pk], shoes.pk: [site["open_spare"].pk]})
    response = client.post(reverse("tagmodel:edit", args=[tag_model.pk]), data)
    assert response.status_code == 302, response.context["form"].errors
    assert examples_of(tag_model, hat) == {"Open hat one", "Secret hat"}
    assert examples_of(tag_model, shoes) == {"Open spare", "Secret shoe"}


def test_guidelines_count_the_examples_the_editor_cannot_see(client, site, settings):
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "MAX_EXAMPLES_PER_TAG": 2}
    client.force_login(site["editor"])
    tag_model, hat, shoes = site["tag_model"], site["hat"], site["shoes"]
    data = edit_data(tag_model, {hat.pk: [i.pk for i in site["a_hats"]], shoes.pk: []})
    response = client.post(reverse("tagmodel:edit", args=[tag_model.pk]), data)
    assert "“hat” has 3 example images; a tag may have at most 2." in str(response.context["form"].errors)


def test_versions_and_preview_show_only_images_the_editor_may_choose(client, site):
    client.force_login(site["editor"])
    tag_model, hat, shoes = site["tag_model"], site["hat"], site["shoes"]
    open_hat, secret_hat = site["a_hats"][0], site["secret"][0]
    mistakes = [
        {"image": image.pk, "predicted": str(shoes.pk), "confidence": confidence}
        for image, confidence in ((secret_hat, 0.9), (open_hat, 0.8))
    ]
    confusion = {str(hat.pk): {str(hat.pk): 1, str(shoes.pk): 2}, str(shoes.pk): {str(shoes.pk): 1}}
    metrics = {"tags": {str(hat.pk): {"name": "hat", "examples": 3, "mistakes": mistakes},
                        str(shoes.pk): {"name": "shoes", "examples": 1}}}  # fmt: skip
    for tag_id, row in confusion.items():
        metrics["tags"][tag_id]["confusion"] = row
    image_type = ContentType.objects.get_for_model(get_image_model()).pk
    samples = [[image_type, secret_hat.pk, 0.9], [image_type, open_hat.pk, 0.8]]
    preview = {
        "status": "ready", "compared_with": None, "assets": 6, "changed": 2, "not_embedded": 0,
        "computed_at": timezone.now().isoformat(),
        "tags": {str(hat.pk): {"name": "hat", "gain": 2, "lose": 0, "keep": 0, "gain_samples": samples,
                               "lose_samples": []}},
    }  # fmt: skip
    version = TrainingVersion(
        tag_model=tag_model, number=1, status=TrainingVersion.Status.SUCCEEDED, metrics=metrics, preview=preview,
        activate_when_trained=False,
    )
    version.set_parameters({"weights": np.zeros((2, 4), dtype=np.float32)})
    version.save()
    versions = client.get(reverse("tagmodel:versions", args=[tag_model.pk])).content.decode()
    assert reverse("wagtailimages:edit", args=[open_hat.pk]) in versions
    assert reverse("wagtailimages:edit", args=[secret_hat.pk]) not in versions and "Secret" not in versions
    response = client.get(reverse("tagmodel:preview", args=[tag_model.pk, version.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("wagtailimages:edit", args=[open_hat.pk]) in html
    assert reverse("wagtailimages:edit", args=[secret_hat.pk]) not in html and "Secret" not in html
    assert 'data-gain="2"' in html, "the counts are of every asset, seen or not"
    assert not renditions_of(site["secret"]).exists()
