"""Permissions: registered for Wagtail's group editor; without them no menu item and 403 everywhere."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from taggit.models import Tag

from wagtail_smarttags.models import TagModel, TagModelTag, TrainingVersion

pytestmark = pytest.mark.django_db


def make_user(django_user_model, username, *codenames):
    user = django_user_model.objects.create_user(username, f"{username}@example.com", "password")
    admin_access = Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    user.user_permissions.add(admin_access, *Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def tag_model():
    tag_model = TagModel.objects.create(title="Garments")
    for name in ("hat", "shoes"):
        TagModelTag.objects.create(tag_model=tag_model, tag=Tag.objects.create(name=name))
    return tag_model


def every_url(tag_model):
    version = TrainingVersion.objects.create(tag_model=tag_model, number=1, status=TrainingVersion.Status.SUCCEEDED)
    return [
        ("get", reverse("tagmodel:index")),
        ("get", reverse("tagmodel:index_results")),
        ("get", reverse("tagmodel:add")),
        ("post", reverse("tagmodel:add")),
        ("get", reverse("tagmodel:edit", args=[tag_model.pk])),
        ("post", reverse("tagmodel:edit", args=[tag_model.pk])),
        ("get", reverse("tagmodel:delete", args=[tag_model.pk])),
        ("post", reverse("tagmodel:delete", args=[tag_model.pk])),
        ("get", reverse("tagmodel:history", args=[tag_model.pk])),
        ("get", reverse("tagmodel:train", args=[tag_model.pk])),
        ("post", reverse("tagmodel:train", args=[tag_model.pk])),
        ("get", reverse("tagmodel:versions", args=[tag_model.pk])),
        ("post", reverse("tagmodel:rollback", args=[tag_model.pk, version.pk])),
        ("get", reverse("tagmodel:preview", args=[tag_model.pk, version.pk])),
        ("post", reverse("tagmodel:refresh_preview", args=[tag_model.pk, version.pk])),
        ("post", reverse("tagmodel:activate", args=[tag_model.pk, version.pk])),
        ("post", reverse("tagmodel:discard", args=[tag_model.pk, version.pk])),
        ("get", reverse("smarttags_training_report")),
        ("get", reverse("smarttags_training_report") + "?export=xlsx"),
        ("get", reverse("smarttags_training_report_results")),
    ]


def test_permissions_appear_in_the_group_editor(admin_client):
    group = Group.objects.create(name="Photo desk")
    html = admin_client.get(reverse("wagtailusers_groups:edit", args=[group.pk])).content.decode()
    for codename in ("add_tagmodel", "change_tagmodel", "delete_tagmodel", "train_tagmodel"):
        permission = Permission.objects.get(codename=codename)
        assert f'value="{permission.pk}"' in html, codename
    assert "Can train tag models" in html


def test_without_permissions_no_menu_item_and_403_on_every_url(client, django_user_model, tag_model):
    user = make_user(django_user_model, "plain")
    client.force_login(user)
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("tagmodel:index") not in home
    assert reverse("smarttags_training_report") not in home
    for method, url in every_url(tag_model):
        response = getattr(client, method)(url)
        assert response.status_code == 403, f"{method.upper()} {url} answered {response.status_code}"
    assert TagModel.objects.filter(pk=tag_model.pk).exists()
    assert tag_model.versions.count() == 1


def test_without_admin_access_wagtail_sends_to_login(client, django_user_model, tag_model):
    user = django_user_model.objects.create_user("visitor", "v@example.com", "password")
    client.force_login(user)
    response = client.get(reverse("tagmodel:index"))
    assert response.status_code == 302 and reverse("wagtailadmin_login") in response.url


def test_manage_without_train_can_edit_but_not_train(client, django_user_model, tag_model):
    client.force_login(make_user(django_user_model, "manager", "add_tagmodel", "change_tagmodel"))
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert reverse("tagmodel:index") in home
    assert client.get(reverse("tagmodel:edit", args=[tag_model.pk])).status_code == 200
    assert "Save and train" not in client.get(reverse("tagmodel:edit", args=[tag_model.pk])).content.decode()
    assert client.get(reverse("tagmodel:train", args=[tag_model.pk])).status_code == 403
    assert client.get(reverse("tagmodel:versions", args=[tag_model.pk])).status_code == 403
    assert client.post(reverse("tagmodel:delete", args=[tag_model.pk])).status_code == 403
    assert TagModel.objects.exists()


def test_train_without_manage_can_train_roll_back_and_read_the_report(client, django_user_model, tag_model):
    client.force_login(make_user(django_user_model, "trainer", "train_tagmodel"))
    index = client.get(reverse("tagmodel:index"))
    assert index.status_code == 200
    assert reverse("tagmodel:train", args=[tag_model.pk]) in index.content.decode()
    assert client.get(reverse("tagmodel:edit", args=[tag_model.pk])).status_code == 403
    assert client.get(reverse("tagmodel:add")).status_code == 403
    assert client.get(reverse("tagmodel:train", args=[tag_model.pk])).status_code == 200
    assert client.get(reverse("tagmodel:versions", args=[tag_model.pk])).status_code == 200
    assert client.get(reverse("smarttags_training_report")).status_code == 200
