from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailSmartTagsAppConfig(AppConfig):
    name = "wagtail_smarttags"
    label = "wagtail_smarttags"
    verbose_name = _("Wagtail smart tags")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401  (registers the system checks)
        from .signal_handlers import register_signal_handlers

        register_signal_handlers()
