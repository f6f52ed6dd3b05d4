"""Messages recorded by the worker, shown in the language of whoever reads them."""

from django.utils.formats import number_format
from django.utils.translation import gettext

from .ml.errors import format_record


def render_message(record):
    """A message record (``ml.errors.message_record``) in the active language, numbers grouped as it
    writes them; a parameter that is a record is translated too."""
    return format_record(record, gettext, _grouped)


def _grouped(number):
    return number_format(number, force_grouping=True)
