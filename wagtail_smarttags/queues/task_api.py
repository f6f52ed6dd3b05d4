"""Django's task API: ``django.tasks`` from Django 6.0, the ``django-tasks`` backport before it.

Both have the same names; the backport is what Wagtail 7.4 and 8 import, and django-tasks-db's
backend is built on whichever of the two Django has, so the app's tasks go where the site's backend is.
"""

import importlib
from importlib.util import find_spec
from types import SimpleNamespace

if find_spec("django.tasks"):  # Django 6.0+
    from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus, task, task_backends
    from django.tasks.exceptions import InvalidTaskBackend, TaskResultDoesNotExist

    BACKENDS_PACKAGE = "django.tasks.backends"
else:
    # The same names: the checker sees Django 6's, so these count as redefinitions to it.
    from django_tasks import (  # type: ignore[assignment,no-redef,unused-ignore]
        DEFAULT_TASK_BACKEND_ALIAS,
        TaskResultStatus,
        task,
        task_backends,
    )
    from django_tasks.exceptions import (  # type: ignore[assignment,unused-ignore]
        InvalidTaskBackendError as InvalidTaskBackend,
    )
    from django_tasks.exceptions import TaskResultDoesNotExist  # type: ignore[assignment,unused-ignore]

    BACKENDS_PACKAGE = "django_tasks.backends"


def import_backend(name):
    """The backend classes of that name shipped with Django and with the backport, where installed.

    ``import_backend("immediate.ImmediateBackend")`` is a tuple for ``isinstance``: on Django 6 a site
    may still name the backport's classes in ``TASKS``.
    """
    classes = []
    for package in dict.fromkeys([BACKENDS_PACKAGE, "django.tasks.backends", "django_tasks.backends"]):
        module_name, _, class_name = f"{package}.{name}".rpartition(".")
        try:
            classes.append(getattr(importlib.import_module(module_name), class_name))
        except (ImportError, AttributeError):
            continue
    return tuple(classes)


api = SimpleNamespace(
    DEFAULT_TASK_BACKEND_ALIAS=DEFAULT_TASK_BACKEND_ALIAS,
    InvalidTaskBackend=InvalidTaskBackend,
    TaskResultDoesNotExist=TaskResultDoesNotExist,
    TaskResultStatus=TaskResultStatus,
    import_backend=import_backend,
    task=task,
    task_backends=task_backends,
)

__all__ = ["api", "import_backend", "task", "task_backends"]
