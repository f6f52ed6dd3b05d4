"""Who may manage and train tag models, and the 403 that every training screen answers otherwise."""

import functools

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from wagtail.permission_policies import ModelPermissionPolicy

from ..models import TagModel

MANAGE_ACTIONS = ("add", "change", "delete")
TRAIN_ACTION = "train"
# Either kind of permission opens the list of tag models and the training report.
ANY_TAG_MODEL_ACTION = (*MANAGE_ACTIONS, TRAIN_ACTION)

tag_model_permission_policy = ModelPermissionPolicy(TagModel)


def can_train(user):
    return tag_model_permission_policy.user_has_permission(user, TRAIN_ACTION)


def can_see_tag_models(user):
    return tag_model_permission_policy.user_has_any_permission(user, ANY_TAG_MODEL_ACTION)


def tag_model_permissions():
    """The permissions offered in Wagtail's group editor: add, change, delete and train tag models."""
    codenames = [f"{action}_tagmodel" for action in ANY_TAG_MODEL_ACTION]
    return Permission.objects.filter(content_type=ContentType.objects.get_for_model(TagModel), codename__in=codenames)


def forbidden_response(request):
    return TemplateResponse(request, "wagtail_smarttags/forbidden.html", status=403)


def forbidden_on_denied(view):
    """Answer 403 instead of Wagtail's redirect to the dashboard, so a refused URL is plainly refused."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied:
            return forbidden_response(request)

    return wrapped
