"""The metadata group of a smart search: the wrapped backend's own matches, as queries to page and count.

On the database backends the group is a query, so the database pages it, counts it and leaves it out
of the smart-tag groups; no ids are held in memory. Search services (Elasticsearch, OpenSearch) are not
queries; the wrapper ranks them in memory instead (``backend.Ranking``).
"""

from django.db.models import BigIntegerField, Exists, OuterRef, Q
from django.db.models.functions import Cast

# The score annotation requested from the wrapped backend; private so it never clashes with a caller's.
METADATA_SCORE = "_smarttags_metadata_score"
INTEGER_KEYS = ("AutoField", "BigAutoField", "SmallAutoField", "IntegerField", "BigIntegerField")


def metadata_group(results, queryset):
    """The group for the wrapped backend's ``results`` (a database query) of a search of ``queryset``."""
    sqlite = _sqlite_index_query(results)
    if sqlite is not None:
        return SQLiteMetadataGroup(results, queryset, sqlite)
    if type(results.query_compiler).__module__.startswith("modelsearch.backends.database.postgres."):
        return PostgresMetadataGroup(results, queryset)
    return MetadataGroup(results, queryset)


class MetadataGroup:
    """Any database backend: its results are a queryset of the searched model."""

    def __init__(self, results, queryset):
        self.results = results
        self.queryset = queryset

    def count(self):
        return self.results.count()

    def page(self, start, stop):
        """``[(pk, score, instance or None)]`` at ``start:stop``, in the wrapped backend's relevance order."""
        page = self.results.annotate_score(METADATA_SCORE)[start:stop]
        return [(getattr(item, "pk", item), getattr(item, METADATA_SCORE, None), item) for item in page]

    def pks(self):
        """A query of the group's primary keys."""
        return self.results.get_queryset().order_by().values("pk")

    def contains(self):
        """The condition, on the searched queryset, of its assets in the group."""
        return Q(pk__in=self.pks())

    def excluding(self, smart_rows):
        """The ``smart_rows`` (``SmartTag`` rows) of assets outside the group."""
        return smart_rows.exclude(object_id__in=self.pks())

    def total_with(self, smart_rows):
        """How many assets the group and the ``smart_rows`` hold together."""
        # One count of the union: the wrapped backend's query runs once, as in its own count.
        return self.queryset.filter(self.contains() | Q(pk__in=smart_rows.values("object_id"))).count()


class PostgresMetadataGroup(MetadataGroup):
    """Wagtail's PostgreSQL backend, whose match joins the index entries to the searched model.

    As a subquery of a larger statement, the planner expects that join to give a couple of rows and
    nests it in a loop (13 s for 800 matches among 100,000 images). So the group is counted as the
    backend counts it, and a smart-tag row is tested against it by its own asset, through the index
    entries' unique index.
    """

    def _in_group(self, outer_pk):
        return Exists(self.results.get_queryset().order_by().filter(pk=OuterRef(outer_pk)).values("pk"))

    def contains(self):
        return self._in_group("pk")

    def excluding(self, smart_rows):
        return smart_rows.exclude(self._in_group("object_id"))

    def total_with(self, smart_rows):
        return self.count() + self.excluding(smart_rows).values("object_id").distinct().count()


class SQLiteMetadataGroup(MetadataGroup):
    """Wagtail's SQLite backend (FTS5), ranked in one pass over the full-text matches.

    The backend orders its results by a correlated subquery that runs the full-text query again for each
    match, so a page costs the square of the matches (seconds at a thousand, minutes at ten thousand).
    Here the same matches, scored by the same BM25 expression and ordered as it orders them (score, then
    newest first), are ranked by one query that starts from the full-text index.
    """

    def __init__(self, results, queryset, index_query):
        super().__init__(results, queryset)
        object_id = "index_entry__object_id"
        in_queryset = Exists(queryset.order_by().filter(pk=OuterRef(object_id)).values("pk"))
        self.matches = index_query.filter(in_queryset)
        if queryset.model._meta.pk.get_internal_type() in INTEGER_KEYS:
            self.object_pk = Cast(object_id, BigIntegerField())
        else:
            self.object_pk = Cast(object_id, queryset.model._meta.pk)

    def count(self):
        return self.matches.values("index_entry__object_id").distinct().count()

    def page(self, start, stop):
        rows = self.matches.annotate(object_pk=self.object_pk).order_by("score", "-object_pk")
        return [(pk, score, None) for pk, score in rows.values_list("object_pk", "score")[start:stop]]

    def pks(self):
        return self.matches.annotate(object_pk=self.object_pk).values("object_pk")

    def total_with(self, smart_rows):
        # Both counts start from their own matches: no pass over the searched queryset.
        return self.count() + self.excluding(smart_rows).values("object_id").distinct().count()


def _sqlite_index_query(results):
    """The full-text matches with their scores, built as Wagtail's SQLite backend builds them, or ``None``
    for any other backend, and for queries it answers without the index (match all, negations)."""
    compiler = results.query_compiler
    if not type(compiler).__module__.startswith("modelsearch.backends.database.sqlite."):
        return None  # importing the SQLite backend's modules elsewhere fails: they look up its FTS model
    try:
        from modelsearch.backends.database.sqlite.query import MatchExpression, normalize
        from modelsearch.backends.database.sqlite.sqlite import SQLiteFTSIndexEntry, SQLiteSearchQueryCompiler
        from modelsearch.query import MatchAll, Not
        from modelsearch.utils import get_descendants_content_types_pks
    except (ImportError, LookupError):  # Wagtail before django-modelsearch, or SQLite without FTS5
        return None
    if not isinstance(compiler, SQLiteSearchQueryCompiler) or SQLiteFTSIndexEntry is None:
        return None
    # As SQLiteSearchQueryCompiler.search() builds its index query (django-modelsearch 1.x).
    query = normalize(compiler.query)
    if isinstance(query, MatchAll | Not):
        return None
    config = compiler.get_config(results.backend)
    search_query = compiler.build_search_query(query, config=config)
    match = MatchExpression(compiler.fields or compiler.FTS_TABLE_FIELDS, search_query)
    rank = compiler._build_rank_expression(compiler.get_search_vectors(), config)
    return (
        SQLiteFTSIndexEntry.objects.filter(match)
        .filter(index_entry__content_type__in=get_descendants_content_types_pks(compiler.queryset.model))
        .annotate(score=rank)
    )
