"""A Wagtail search backend that wraps any other one and also finds assets by their smart tags.

``WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail_smarttags.search.backend",
"WRAPPED_BACKEND": "wagtail.search.backends.database", ...the wrapped backend's own options}}``

For image and document models a search returns, in this order:

1. assets whose metadata (title, tags, description, ...) match all the terms, as ranked by the wrapped backend
   (promoted smart tags are ordinary tags, so they count here);
2. assets whose applied or promoted smart tags match all the terms;
3. assets whose applied or promoted smart tags match some of the terms;

groups 2 and 3 by the number of terms matched, then by confidence. Removed smart tags never match.
Every other model, and field-restricted or structured queries, go to the wrapped backend unchanged.
Indexing is entirely the wrapped backend's.

On the database backends the database counts, ranks and pages all three groups (``metadata``): a
first page the metadata group fills costs what the wrapped backend's own page costs, plus one count.
Search services (Elasticsearch, OpenSearch) answer in pages of their own, so their groups are ranked
in memory, up to ``SMART_TAGS_MAX_RESULTS`` ids each.
"""

from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Case, Count, Exists, FloatField, Max, OuterRef, Q, QuerySet, Sum, Value, When
from django.db.models.query import ModelIterable
from wagtail.search.backends import import_backend
from wagtail.search.backends.base import (
    BaseSearchBackend,
    BaseSearchQueryCompiler,
    BaseSearchResults,
    FilterFieldError,
)
from wagtail.search.query import PlainText

from ..models import SmartTag
from ..pipeline.kinds import kind_for_model
from .metadata import METADATA_SCORE, metadata_group
from .words import names_matching_terms, split_words

DEFAULT_WRAPPED_BACKEND = "wagtail.search.backends.database"
# Search services only, like their max_result_window: how many ids of each group are ranked in memory.
DEFAULT_MAX_RESULTS = 10_000
# How many distinct words of a query are searched, in metadata and in smart tags; the rest are left out.
# Each word is one condition of the tag look-up: hundreds of them overflow SQLite's parser.
DEFAULT_MAX_TERMS = 32
MATCHING_STATES = (SmartTag.State.APPLIED, SmartTag.State.PROMOTED)


def split_terms(query_string):
    """The distinct lower-case words of a query, in order."""
    return split_words(query_string)


def supports_id_queries(results):
    """Whether the wrapped results are a database query (the database backends) that can give ids alone."""
    return hasattr(results, "get_queryset")


def is_smart_searchable(model):
    return kind_for_model(model) is not None


@dataclass
class Ranking:
    """The relevance-ordered ids of one search: the metadata group, then the smart-tag groups."""

    metadata: list = field(default_factory=list)  # [(pk, score)], at most max_results of them
    metadata_total: int = 0
    smart: list = field(default_factory=list)  # [(pk, score)] not in the metadata group

    @property
    def total(self):
        return self.metadata_total + len(self.smart)


class SmartTagQueryCompiler(BaseSearchQueryCompiler):
    """Holds one smart search; shared by every slice of its results, so the ranking is computed once."""

    def __init__(self, queryset, query, *, metadata_results, operator, terms, prefix, order_by_relevance, max_results):
        # self.query becomes PlainText(query, operator): the metadata query, reusable as it is.
        super().__init__(queryset, query, operator=operator, order_by_relevance=order_by_relevance)
        self.metadata_results = metadata_results
        self.terms = terms
        self.prefix = prefix
        self.max_results = max_results

    def check(self):
        # The wrapped backend already checked the query when it built metadata_results.
        pass

    @cached_property
    def term_names(self):
        """``({tag id: term positions}, {label id: term positions})``: the taggit tags and the app's own labels
        (keywords, generic labels that are not taggit tags) the terms match, from the word index."""
        return names_matching_terms(self.terms, prefix=self.prefix)

    @property
    def term_tags(self):
        return self.term_names[0]

    @property
    def term_labels(self):
        return self.term_names[1]

    def matching(self, position=None):
        """``Q`` of the smart tags whose tag or label matches the terms (the term at ``position`` only)."""
        tags = [pk for pk, matched in self.term_tags.items() if position is None or position in matched]
        labels = [pk for pk, matched in self.term_labels.items() if position is None or position in matched]
        conditions = ([Q(tag_id__in=tags)] if tags else []) + ([Q(label_id__in=labels)] if labels else [])
        return Q(*conditions, _connector=Q.OR) if conditions else None

    def smart_tag_rows(self):
        """The asset's matching smart-tag rows, restricted to the searched queryset (never widening it)."""
        # EXISTS rather than IN: the planner then starts from the few rows of the matching tags
        # instead of probing the smart-tag table once per asset of the queryset.
        in_queryset = Exists(self.queryset.order_by().filter(pk=OuterRef("object_id")).values("pk"))
        return SmartTag.objects.filter(
            self.matching(),
            in_queryset,
            content_type=ContentType.objects.get_for_model(self.queryset.model),
            state__in=MATCHING_STATES,
        )

    def ranked_smart_matches(self, start, stop, metadata_pks=None):
        """``[(object id, terms matched, score)]`` at positions ``start:stop`` of the smart-tag groups, best
        first: more terms, then higher confidence. On the database backends the metadata group is left
        out here, in the same query (see ``smart_only_rows``); elsewhere the caller removes it."""
        if self.matching() is None:
            return []
        terms_matched = Value(0)
        for position in range(len(self.terms)):
            condition = self.matching(position)
            if condition is not None:
                terms_matched = terms_matched + Max(Case(When(condition, then=Value(1)), default=Value(0)))
        # An editor's promotion is certainty: it ranks the asset as if the model were sure.
        confidence = Case(When(state=SmartTag.State.PROMOTED, then=Value(1.0)), default="confidence")
        return list(
            self.smart_only_rows(metadata_pks)
            .values("object_id")
            .annotate(terms_matched=terms_matched, score=Sum(confidence, output_field=FloatField()))
            .order_by("-terms_matched", "-score", "-object_id")
            .values_list("object_id", "terms_matched", "score")[start:stop]
        )

    @cached_property
    def metadata(self):
        """The metadata group as queries (``metadata.MetadataGroup``) on the database backends, whose
        groups the database counts, ranks and pages; ``None`` for search services, ranked in memory."""
        if not supports_id_queries(self.metadata_results):
            return None
        return metadata_group(self.metadata_results, self.queryset)

    @property
    def ranks_in_database(self):
        return self.metadata is not None

    def smart_only_rows(self, metadata_pks=None):
        """Matching smart-tag rows of the assets that are not in the metadata group, on the database
        backends: the group's ``metadata_pks`` when the caller knows them all, else its query."""
        rows = self.smart_tag_rows()
        if not self.ranks_in_database:
            return rows
        if metadata_pks is not None:
            return rows.exclude(object_id__in=list(metadata_pks)) if metadata_pks else rows
        return self.metadata.excluding(rows)

    @cached_property
    def metadata_total(self):
        return self.metadata.count() if self.metadata is not None else self.metadata_results.count()

    @property
    def total(self):
        if not self.ranks_in_database:
            return self.ranking.total
        if self.matching() is None:
            return self.metadata_total
        return self.metadata.total_with(self.smart_tag_rows())

    def metadata_ranking(self):
        """``([(pk, score)], total)`` of the wrapped backend's matches, without loading model instances."""
        if not supports_id_queries(self.metadata_results):
            # Search services (Elasticsearch, OpenSearch) page through their own results: count only here.
            return [], self.metadata_results.count()
        limit = self.max_results
        # The database backends: one query for ids and scores instead of a count and a page.
        queryset = self.metadata_results.annotate_score(METADATA_SCORE).get_queryset().prefetch_related(None)
        if METADATA_SCORE in queryset.query.annotations:
            rows = list(queryset.values_list("pk", METADATA_SCORE)[:limit])
        else:
            rows = [(pk, None) for pk in queryset.values_list("pk", flat=True)[:limit]]
        total = len(rows) if len(rows) < limit else self.metadata_results.count()
        return rows, total

    def metadata_pks_among(self, pks):
        """Which of ``pks`` match the metadata; only needed when the metadata group was truncated."""
        if not pks:
            return set()
        results = self.metadata_results
        restricted = self.queryset.filter(pk__in=pks)
        search = results.backend.autocomplete if self.prefix else results.backend.search
        matches = search(self.query, restricted, order_by_relevance=False)
        return {item.pk if hasattr(item, "pk") else item for item in matches}

    @cached_property
    def ranking(self):
        metadata, metadata_total = self.metadata_ranking()
        in_metadata = {pk for pk, _ in metadata}
        smart = self.ranked_smart_matches(0, self.max_results + len(in_metadata))
        if metadata_total > len(metadata):
            in_metadata |= self.metadata_pks_among([pk for pk, *_ in smart if pk not in in_metadata])
        smart = [(pk, score) for pk, _, score in smart if pk not in in_metadata][: self.max_results]
        return Ranking(metadata=metadata, metadata_total=metadata_total, smart=smart)

    def ranked_entries(self, start, stop):
        """``[(pk, score, instance or None)]`` for positions ``start:stop`` of the ranking."""
        if self.ranks_in_database:
            return self.database_entries(start, stop)
        ranking = self.ranking
        stop = ranking.total if stop is None else min(stop, ranking.total)
        entries = []
        if start < ranking.metadata_total:
            metadata_stop = min(stop, ranking.metadata_total)
            if metadata_stop <= len(ranking.metadata):
                entries += [(pk, score, None) for pk, score in ranking.metadata[start:metadata_stop]]
            else:
                # Past the ranked window: page through the wrapped backend itself.
                page = self.metadata_results.annotate_score(METADATA_SCORE)[start:metadata_stop]
                entries += [(getattr(item, "pk", item), getattr(item, METADATA_SCORE, None), item) for item in page]
        if stop > ranking.metadata_total:
            smart_start = max(start - ranking.metadata_total, 0)
            entries += [(pk, score, None) for pk, score in ranking.smart[smart_start : stop - ranking.metadata_total]]
        return entries

    def database_entries(self, start, stop):
        """A page of the three groups, each paged by the database: the metadata group by the wrapped
        backend (its own relevance), the smart-tag groups by one ranked query.

        A first page the metadata group fills costs what the wrapped backend's page costs; a page that
        holds the group's end tells where it ends and, on the first page, every asset it holds, so that
        neither the group's count nor its query is needed again.
        """
        entries, metadata_pks = [], None
        known_total = self.__dict__.get("metadata_total")
        if known_total is None or start < known_total:
            entries = page = self.metadata.page(start, stop)
            if stop is not None and len(page) == stop - start:
                return entries
            if page or start == 0:
                self.__dict__["metadata_total"] = start + len(page)
                if start == 0:
                    metadata_pks = [pk for pk, _, _ in entries]
        metadata_total = self.metadata_total
        smart_start = max(start - metadata_total, 0)
        smart_stop = None if stop is None else stop - metadata_total
        matches = self.ranked_smart_matches(smart_start, smart_stop, metadata_pks)
        return entries + [(pk, score, None) for pk, _, score in matches]

    def combined_queryset(self):
        """Every match, in the searched queryset's own order (when the caller did not ask for relevance)."""
        if self.metadata is not None:
            in_metadata = self.metadata.contains()
        else:
            in_metadata = Q(pk__in=[item.pk for item in self.metadata_results[: self.max_results]])
        matches = in_metadata
        if self.matching() is not None:
            matches |= Q(pk__in=self.smart_tag_rows().values("object_id"))
        queryset = self.queryset.filter(matches)
        if not queryset.query.order_by:
            # A stable order across pages, as Wagtail's own backends do.
            queryset = queryset.order_by("-pk")
        return queryset


class SmartTagSearchResults(BaseSearchResults):
    def _do_search(self):
        compiler = self.query_compiler
        if not compiler.order_by_relevance:
            items = list(compiler.combined_queryset()[self.start : self.stop])
            if self._score_field:
                for item in items:
                    if hasattr(item, "pk"):
                        setattr(item, self._score_field, None)
            return items
        entries = compiler.ranked_entries(self.start, self.stop)
        loaded = self._load([pk for pk, _, instance in entries if instance is None])
        items = []
        for pk, score, instance in entries:
            item = instance if instance is not None else loaded.get(pk)
            if item is None:
                continue  # deleted since it was ranked
            if self._score_field and hasattr(item, "pk"):
                setattr(item, self._score_field, score)
            items.append(item)
        return items

    def _load(self, pks):
        """``{pk: item}`` from the searched queryset, so its select_related, prefetches and values() apply."""
        if not pks:
            return {}
        queryset = self.query_compiler.queryset.filter(pk__in=pks).order_by("pk")
        items = list(queryset)
        if issubclass(queryset._iterable_class, ModelIterable):
            return {item.pk: item for item in items}
        return dict(zip(queryset.values_list("pk", flat=True), items))

    def facet(self, field_name):
        """``{value: count}`` of a filter field over every match, all three groups, most frequent first."""
        compiler = self.query_compiler
        if compiler._get_filterable_field(field_name) is None:
            raise FilterFieldError(
                f'Cannot facet search results with field "{field_name}". Please add '
                f"index.FilterField('{field_name}') to {compiler.queryset.model.__name__}.search_fields.",
                field_name=field_name,
            )
        rows = (
            compiler.combined_queryset()
            .order_by()
            .values(field_name)
            .annotate(count=Count("pk"))
            .order_by("-count", field_name)
        )
        return OrderedDict((row[field_name], row["count"]) for row in rows)

    def _do_count(self):
        compiler = self.query_compiler
        if not compiler.order_by_relevance:
            return compiler.combined_queryset().count()
        total = compiler.total
        return max((total if self.stop is None else min(self.stop, total)) - self.start, 0)


class SmartTagSearchBackend(BaseSearchBackend):
    """Delegates indexing and every non-asset search to ``WRAPPED_BACKEND``; adds smart tags to asset searches.

    Options: ``WRAPPED_BACKEND`` (dotted path, default the database backend), ``SMART_TAGS_MAX_RESULTS``
    (with a search service, how many ids of each group are ranked in memory, default 10,000),
    ``SMART_TAGS_MAX_TERMS`` (how many distinct words of a query are searched, default 32); all others
    go to the wrapped backend.
    """

    results_class = SmartTagSearchResults
    # Attributes that callers (index updates, rebuild_index) read from the backend: the wrapped backend's.
    DELEGATED_ATTRIBUTES = (
        "query_compiler_class",
        "autocomplete_query_compiler_class",
        "index_class",
        "rebuilder_class",
        "catch_indexing_errors",
    )

    def __init__(self, params):
        options = dict(params)
        wrapped_path = options.pop("WRAPPED_BACKEND", DEFAULT_WRAPPED_BACKEND)
        self.max_results = int(options.pop("SMART_TAGS_MAX_RESULTS", DEFAULT_MAX_RESULTS))
        self.max_terms = int(options.pop("SMART_TAGS_MAX_TERMS", DEFAULT_MAX_TERMS))
        if wrapped_path.startswith(__name__):
            raise ImproperlyConfigured("WRAPPED_BACKEND must name another search backend, not the smart-tag wrapper.")
        super().__init__(options)
        self.wrapped = import_backend(wrapped_path)(options)
        for attribute in self.DELEGATED_ATTRIBUTES:
            setattr(self, attribute, getattr(self.wrapped, attribute))

    def __getattr__(self, name):
        # Backend-specific attributes (an Elasticsearch client, its index names, ...) stay reachable.
        if name == "wrapped":
            raise AttributeError(name)
        return getattr(self.wrapped, name)

    def get_index_for_model(self, model):
        return self.wrapped.get_index_for_model(model)

    def get_index_for_object(self, obj):
        return self.wrapped.get_index_for_object(obj)

    def all_indexes(self):
        return self.wrapped.all_indexes()

    def refresh_indexes(self):
        return self.wrapped.refresh_indexes()

    def reset_indexes(self):
        return self.wrapped.reset_indexes()

    def add(self, obj):
        return self.wrapped.add(obj)

    def add_bulk(self, model, obj_list):
        return self.wrapped.add_bulk(model, obj_list)

    def delete(self, obj):
        return self.wrapped.delete(obj)

    def search(self, query, model_or_queryset, fields=None, operator=None, order_by_relevance=True):
        return self._search_with_smart_tags(
            self.wrapped.search, query, model_or_queryset, fields, operator, order_by_relevance, prefix=False
        )

    def autocomplete(self, query, model_or_queryset, fields=None, operator=None, order_by_relevance=True):
        return self._search_with_smart_tags(
            self.wrapped.autocomplete, query, model_or_queryset, fields, operator, order_by_relevance, prefix=True
        )

    def _search_with_smart_tags(self, wrapped_search, query, model_or_queryset, fields, operator, relevance, prefix):
        queryset = model_or_queryset if isinstance(model_or_queryset, QuerySet) else None
        model = queryset.model if queryset is not None else model_or_queryset
        terms = self._terms(query)
        if len(terms) > self.max_terms:
            # Wagtail's own backends fail on long queries too (PostgreSQL recurses too deep at a few
            # hundred words, InnoDB's full-text search runs out of memory at a hundred): a query is
            # searched by its first words.
            terms = terms[: self.max_terms]
            query = " ".join(terms) if isinstance(query, str) else PlainText(" ".join(terms), operator=query.operator)
        if fields is not None or not terms or not is_smart_searchable(model):
            # Field-restricted (fields=[] too: no field, no match) and structured queries keep the wrapped
            # backend's exact semantics.
            return wrapped_search(
                query, model_or_queryset, fields=fields, operator=operator, order_by_relevance=relevance
            )
        if queryset is None:
            queryset = model._default_manager.all()
        metadata_operator = operator or "and"
        metadata_results = wrapped_search(
            query, queryset, fields=None, operator=metadata_operator, order_by_relevance=relevance
        )
        if metadata_results.query_compiler is None:
            return metadata_results  # an empty result the wrapped backend decided on (e.g. model not indexed)
        compiler = SmartTagQueryCompiler(
            queryset,
            query,
            metadata_results=metadata_results,
            operator=metadata_operator,
            terms=terms,
            prefix=prefix,
            order_by_relevance=relevance,
            max_results=self.max_results,
        )
        return self.results_class(self, compiler)

    @staticmethod
    def _terms(query):
        if isinstance(query, str):
            return split_terms(query)
        if isinstance(query, PlainText):
            return split_terms(query.query_string)
        return []


SearchBackend = SmartTagSearchBackend
