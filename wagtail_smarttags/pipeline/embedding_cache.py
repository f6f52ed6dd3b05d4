"""The embedding cache: vectors (and the backbone's own labels) of every file embedded, by file hash.

A retrain or rollback re-tags the library from here, without reading or decoding any file.
"""

from django.db import connections, router

from ..ml.arrays import decode_array, encode_array
from ..models import EmbeddingCache

# Labels kept per image or frame in the cache: enough to apply any GENERIC_MAX_TAGS a site chooses later.
LABELS_KEPT = 10


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
    """``{file_hash: (vector, labels)}`` for the hashes already in the cache."""
    rows = EmbeddingCache.objects.filter(file_hash__in=list(file_hashes), backbone_id=backbone_id)
    return {
        file_hash: (decode_array(vector), labels)
        for file_hash, vector, labels in rows.values_list("file_hash", "vector", "labels")
    }


def store_embeddings(entries, backbone_id):
    """Cache ``{file_hash: (vectors, labels per row)}`` in one statement.

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
                vector=encode_array(vectors),
                labels=[[[name, round(float(score), 6)] for name, score in row] for row in labels],
            )
            for file_hash, (vectors, labels) in entries.items()
        ],
        update_conflicts=True,
        unique_fields=target,
        update_fields=["vector", "labels"],
    )


def usable(entry, backbone):
    """A cache entry is usable unless the backbone labels images and the entry predates labels."""
    return entry is not None and (bool(entry[1]) or not backbone.has_fixed_labels)
