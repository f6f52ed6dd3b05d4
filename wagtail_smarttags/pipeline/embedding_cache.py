"""The embedding cache: vectors (with the backbone's own labels and the colours) of every file embedded, by file hash.

A retrain or rollback re-tags the library from here, without reading or decoding any file.
"""

from typing import NamedTuple

import numpy as np
from django.db import connections, router

from ..ml.arrays import decode_array, encode_array
from ..models import EmbeddingCache

# Labels kept per image or frame in the cache: enough to apply any GENERIC_MAX_TAGS a site chooses later.
LABELS_KEPT = 10


class CacheEntry(NamedTuple):
    """What the cache holds of one file: its embedding (a vector, or a matrix of frames), the backbone's
    ``[(label, probability)]`` per row, and ``{colour name: coverage}`` (None if not computed)."""

    vectors: np.ndarray
    labels: list
    colours: dict | None = None


def cached_embeddings(file_hashes, backbone_id):
    """``{file_hash: vector}`` for the hashes already in the cache."""
    from .sql import rows_where_in

    rows = EmbeddingCache.objects.filter(backbone_id=backbone_id)
    binary_rows = _postgresql_binary_rows(rows, list(file_hashes), backbone_id)
    if binary_rows is None:
        binary_rows = rows_where_in(
            EmbeddingCache, ["file_hash", "vector"], "file_hash", list(file_hashes), backbone_id=backbone_id
        )
    return {file_hash: decode_array(vector) for file_hash, vector in binary_rows}


def _postgresql_binary_rows(queryset, file_hashes, backbone_id):
    """``[(file_hash, vector bytes)]`` read in PostgreSQL's binary format, or None on other databases.

    Django's psycopg cursors bind on the client, which returns bytea as hex text: twice the bytes
    to send and decode. A library re-tag reads a gigabyte of embeddings, so it is read in binary.
    """
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    try:
        import psycopg
    except ImportError:
        return None  # psycopg2: the ORM's query below
    connection.ensure_connection()
    if not isinstance(connection.connection, psycopg.Connection):
        return None
    table = connection.ops.quote_name(EmbeddingCache._meta.db_table)
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(
            f"SELECT file_hash, vector FROM {table} WHERE file_hash = ANY(%s) AND backbone_id = %s",
            [file_hashes, backbone_id],
            binary=True,
        )
        return cursor.fetchall()


def cached_entries(file_hashes, backbone_id):
    """``{file_hash: CacheEntry}`` for the hashes already in the cache."""
    rows = EmbeddingCache.objects.filter(file_hash__in=list(file_hashes), backbone_id=backbone_id)
    return {
        file_hash: CacheEntry(decode_array(vector), labels, colours)
        for file_hash, vector, labels, colours in rows.values_list("file_hash", "vector", "labels", "colours")
    }


def store_embeddings(entries, backbone_id):
    """Cache ``{file_hash: CacheEntry}`` in one statement.

    An upsert: a row cached before labels existed gets them; two workers caching the same file
    at once write the same vector.
    """
    if not entries:
        return
    connection = connections[router.db_for_write(EmbeddingCache)]
    # MySQL's ON DUPLICATE KEY UPDATE takes no conflict target.
    target = ["file_hash", "backbone_id"] if connection.features.supports_update_conflicts_with_target else None
    EmbeddingCache.objects.bulk_create(
        [
            EmbeddingCache(
                file_hash=file_hash,
                backbone_id=backbone_id,
                vector=encode_array(entry.vectors),
                labels=[[[name, round(float(score), 6)] for name, score in row] for row in entry.labels],
                colours=entry.colours,
            )
            for file_hash, entry in entries.items()
        ],
        update_conflicts=True,
        unique_fields=target,
        update_fields=["vector", "labels", "colours"],
    )


def usable(entry, backbone, colours_needed):
    """Whether a cache entry holds all a tagging needs: not if the backbone labels images and the entry
    predates labels, nor if colour tags are wanted and it was cached while they were off."""
    if entry is None or (colours_needed and entry.colours is None):
        return False
    return bool(entry.labels) or not backbone.has_fixed_labels
