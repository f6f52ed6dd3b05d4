"""The wrapper is a conforming Wagtail search backend.

django-modelsearch's own backend test suite (its ``BackendTests`` and the tests it adds for this run's
database backend, with the same skips) runs through the wrapper; and the same kinds of calls on
Wagtail's document and image models, where the wrapper adds smart tags, give what the wrapped backend
gives when no smart tag matches.
"""

import sys
import unittest
from io import StringIO

import pytest
from django.core import management
from django.core.files.base import ContentFile
from django.db import connection
from django.test import override_settings
from wagtail.documents import get_document_model
from wagtail.images import get_image_model
from wagtail.search.backends import get_search_backend
from wagtail.search.query import MATCH_ALL, Not, Phrase, PlainText

from ..factories import create_image, root_collection, solid_image_bytes

pytest.importorskip("modelsearch.test.testapp", reason="Wagtail before django-modelsearch")

# The suite imports modelsearch's own concrete models, which exist only where the "modelsearch" app is
# installed; a Wagtail site has the same models as "wagtail.search" (Wagtail's app of modelsearch).
import wagtail.search.models  # noqa: E402

sys.modules.setdefault("modelsearch.models", wagtail.search.models)

WRAPPER = {"default": {"BACKEND": "wagtail_smarttags.search.backend"}}
# Django's TestCase handles the database itself; the mark puts the suite in the database runs (make test).
pytestmark = pytest.mark.django_db

if connection.vendor == "mysql":
    # Its MySQL suite clears modelsearch's own table by name (modelsearch_indexentry), which a Wagtail site
    # has as wagtailsearch_indexentry; MariaDB runs the app's own search tests instead.
    pytest.skip("modelsearch's MySQL suite needs the modelsearch app's tables", allow_module_level=True)



def wrapped_suite():
    """modelsearch's test case for this run's database backend (not bound here, or pytest would run it too)."""
    if connection.vendor == "postgresql":
        from modelsearch.tests import test_postgres_backend

        return test_postgres_backend.TestPostgresSearchBackend
    from modelsearch.tests import test_sqlite_backend

    return test_sqlite_backend.TestSQLiteSearchBackend


BOOKS = [
    "The Hobbit",
    "The Fellowship of the Ring",
    "The Two Towers",
    "The Return of the King",
    "JavaScript: The Definitive Guide",
    "JavaScript: The good parts",
    "Learning Python",
    "A Game of Thrones",
]


class AssetCalls:
    """The calls of ``BackendTests`` on the document and image models, compared with the wrapped backend."""

    @classmethod
    def create_assets(cls):
        root = root_collection()
        cls.shelf = root.add_child(name="Shelf")
        Document = get_document_model()
        for number, title in enumerate(BOOKS):
            collection = cls.shelf if number % 3 == 0 else root
            document = Document(title=title, collection=collection)
            document.file.save(f"book-{number}.txt", ContentFile(f"{title}\n".encode()), save=False)
            document.save()
            image = create_image(solid_image_bytes(size=(8, 8)), title=title, name=f"cover-{number}.png")
            image.collection = collection
            image.save()

    def wrapped(self):
        return self.backend.wrapped

    def assert_same(self, call, *arguments, **options):
        for model in (get_document_model(), get_image_model()):
            with self.subTest(model=model.__name__, call=call, arguments=arguments, options=options):
                mine = getattr(self.backend, call)(arguments[0], model, *arguments[1:], **options)
                theirs = getattr(self.wrapped(), call)(arguments[0], model, *arguments[1:], **options)
                self.assertEqual([item.pk for item in mine], [item.pk for item in theirs])
                self.assertEqual(mine.count(), theirs.count())

    def test_assets_search(self):
        self.assert_same("search", "JavaScript")
        self.assert_same("search", "javascript guide", operator="or")
        self.assert_same("search", "king return", operator="and")
        self.assert_same("search", "the", order_by_relevance=False)

    def test_assets_search_with_no_fields_matches_nothing(self):
        self.assert_same("search", "hobbit", fields=[])
        self.assert_same("autocomplete", "hobb", fields=[])
        self.assertEqual(list(self.backend.search("hobbit", get_document_model(), fields=[])), [])

    def test_assets_autocomplete(self):
        self.assert_same("autocomplete", "Java")
        self.assert_same("autocomplete", "the ho")

    def test_assets_structured_queries(self):
        self.assert_same("search", MATCH_ALL, order_by_relevance=False)
        self.assert_same("search", PlainText("hobbit"))
        self.assert_same("search", Phrase("the hobbit"))
        self.assert_same("search", Not(PlainText("javascript")), order_by_relevance=False)

    def test_assets_facet(self):
        for model in (get_document_model(), get_image_model()):
            with self.subTest(model=model.__name__):
                mine = self.backend.search("the", model).facet("collection_id")
                theirs = self.wrapped().search("the", model).facet("collection_id")
                self.assertEqual(dict(mine), dict(theirs))
                self.assertEqual(sum(mine.values()), self.backend.search("the", model).count())

    def test_assets_slicing(self):
        for model in (get_document_model(), get_image_model()):
            with self.subTest(model=model.__name__):
                mine, theirs = self.backend.search("the", model), self.wrapped().search("the", model)
                self.assertEqual([item.pk for item in mine[1:3]], [item.pk for item in theirs[1:3]])
                self.assertEqual(mine[1:3].count(), theirs[1:3].count())


@override_settings(MODELSEARCH_BACKENDS=WRAPPER, WAGTAILSEARCH_BACKENDS=WRAPPER)
class TestTheWrapperConforms(AssetCalls, wrapped_suite()):
    backend_path = "wagtail_smarttags.search.backend"

    @classmethod
    def setUpClass(cls):
        if connection.vendor == "postgresql":
            # What the suite's test app migrations do; they are not run here (see tests/settings.py).
            for command in ("enable_unaccent", "enable_trigram", "enable_fuzzystrmatch"):
                management.call_command(command, verbosity=0)
        super().setUpClass()

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.create_data()

    @classmethod
    def create_data(cls):
        cls.create_assets()
        # What the suite's newer tests expect of its fixture, which the stored copy predates.
        from modelsearch.test.testapp.models import AgendaItem, Meeting, MPAnimal, NSAnimal, Speaker

        for model in (MPAnimal, NSAnimal):
            animal = model.add_root(name="Animal")
            mammal = animal.add_child(name="Mammal")
            animal.add_child(name="Reptile")
            mammal.add_child(name="Dog")
            mammal.add_child(name="Cat")
        agenda = AgendaItem.objects.create(meeting=Meeting.objects.get(name="Stand-up meeting"), topic="Progress")
        Speaker.objects.create(agenda_item=agenda, name="Arthur Conan Doyle")

    @unittest.skip("Wagtail sites run modelsearch's rebuild command as update_index; setUp runs it.")
    def test_rebuild_modelsearch_index_no_verbosity(self):
        pass

    def setUp(self):
        # As BackendTests.setUp, with Wagtail's name for the rebuild command.
        self.backend_name = "default"
        self.backend = get_search_backend(self.backend_name)
        self.clear_index_entries()
        management.call_command("update_index", backend_name=self.backend_name, stdout=StringIO(), chunk_size=50)
