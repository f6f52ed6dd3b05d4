"""Multi-row statements for smart tags that run on SQLite, PostgreSQL and MySQL/MariaDB alike.

A library re-tag writes a hundred thousand rows. The ORM's ``bulk_create`` builds a model instance
per row and ``bulk_update`` one ``CASE`` branch per row, which costs several times the database's
own work; one statement per row costs a round trip each. These send only the values that differ
per row, in a derived table whose columns are named the same way on every database.
"""

from django.db import connections, router
from django.utils import timezone

from ..models import SmartTag

# Rows per statement: 3 values each stays far below every database's limit on parameters.
ROWS_PER_STATEMENT = 2000


def rows_where_in(model, columns, field, values, **equal):
    """``SELECT columns FROM model WHERE field IN values AND key = value ...`` as plain tuples.

    Written by hand because the ORM processes each value of a long IN list on its own, which costs
    more than the query when a re-tag reads a hundred thousand rows by id or hash.
    """
    if not values:
        return []
    connection = connections[router.db_for_read(model)]
    quote = connection.ops.quote_name
    column = {f.name: f.column for f in model._meta.concrete_fields}
    column["pk"] = model._meta.pk.column
    where = [f"{quote(column[field])} IN ({', '.join(['%s'] * len(values))})"]
    where += [f"{quote(column[name])} = %s" for name in equal]
    sql = (f"SELECT {', '.join(quote(column[name]) for name in columns)} FROM {quote(model._meta.db_table)} "
           f"WHERE {' AND '.join(where)}")  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *equal.values()])
        return cursor.fetchall()


def _connection():
    return connections[router.db_for_write(SmartTag)]


def _is_mysql(connection):
    return connection.vendor == "mysql"


def _values_table(connection, columns, count):
    """SQL for a derived table ``v`` with ``columns``, ``count`` rows of parameters."""
    if _is_mysql(connection):
        # MySQL has VALUES ROW(...) and MariaDB unnamed VALUES lists; UNION ALL names columns on both.
        # ``+ 0e0`` makes a confidence a double, whatever the first row's literal looks like.
        cells = ["%s + 0e0" if column == "confidence" else "%s" for column in columns]
        first = ", ".join(f"{cell} AS {column}" for cell, column in zip(cells, columns))
        rest = ", ".join(cells)
        return "(SELECT " + first + "".join(f" UNION ALL SELECT {rest}" for _ in range(count - 1)) + ") AS v"
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    named = ", ".join(f"column{index} AS {column}" for index, column in enumerate(columns, 1))
    return f"(SELECT {named} FROM (VALUES {', '.join([row] * count)}) AS values_list) AS v"


def _batches(rows):
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        yield rows[start : start + ROWS_PER_STATEMENT]


def insert_smart_tags(content_type_id, rows, *, source, tag_model_id=None, version_id=None, term="tag"):
    """Insert ``[(object id, tag id, confidence), ...]`` as applied smart tags; rows that exist are skipped.

    With ``term="label"`` the middle value is a label id. Tags and labels go in separate statements:
    a column of the derived table that is NULL on every row would be typed as text by PostgreSQL.
    """
    if not rows:
        return
    connection = _connection()
    quote = connection.ops.quote_name
    field = {f.name: f.column for f in SmartTag._meta.concrete_fields}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    fixed = {"content_type": content_type_id, "source": source, "state": SmartTag.State.APPLIED.value,
             "created_at": now, "updated_at": now}  # fmt: skip
    # NULLs are left to the columns' default: PostgreSQL would type a bare NULL in a SELECT as text.
    if tag_model_id is not None:
        fixed["tag_model"] = tag_model_id
    if version_id is not None:
        fixed["version"] = version_id
    columns = [field[name] for name in fixed] + [field["object_id"], field[term], field["confidence"]]
    select = ", ".join(["%s"] * len(fixed) + ["v.object_id", "v.term_id", "v.confidence"])
    if _is_mysql(connection):
        head, tail = "INSERT IGNORE INTO", ""
    else:
        # SQLite needs a WHERE before ON CONFLICT in an INSERT ... SELECT.
        head, tail = "INSERT INTO", " WHERE true ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        for batch in _batches(rows):
            sql = (
                f"{head} {quote(SmartTag._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
                f"SELECT {select} FROM {_values_table(connection, ['object_id', 'term_id', 'confidence'], len(batch))}"
                f"{tail}"
            )
            cursor.execute(sql, [*fixed.values(), *(value for row in batch for value in row)])


def update_smart_tags(updates, *, source, tag_model_id=None, version_id=None):
    """Set ``[(smart tag id, confidence), ...]`` with this source, tag model and version, on rows still applied.

    Rows an editor decided on meanwhile keep everything: the ``state`` guard is in the statement.
    """
    if not updates:
        return
    connection = _connection()
    quote = connection.ops.quote_name
    table = quote(SmartTag._meta.db_table)
    field = {f.name: f.column for f in SmartTag._meta.concrete_fields}
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    assignments = [(field["source"], "%s"), (field["tag_model"], "%s"), (field["version"], "%s"),
                   (field["updated_at"], "%s"), (field["confidence"], "v.confidence")]  # fmt: skip
    fixed = [source, tag_model_id, version_id, now]
    with connection.cursor() as cursor:
        for batch in _batches(updates):
            values = _values_table(connection, ["id", "confidence"], len(batch))
            params = [value for row in batch for value in row]
            if _is_mysql(connection):
                sets = ", ".join(f"t.{quote(column)} = {value}" for column, value in assignments)
                sql = (f"UPDATE {table} AS t JOIN {values} ON t.{quote(field['id'])} = v.id SET {sets} "
                       f"WHERE t.{quote(field['state'])} = %s")  # fmt: skip
                params = params + fixed + [SmartTag.State.APPLIED.value]
            else:
                sets = ", ".join(f"{quote(column)} = {value}" for column, value in assignments)
                where = f"{table}.{quote(field['id'])} = v.id AND {table}.{quote(field['state'])} = %s"
                sql = f"UPDATE {table} SET {sets} FROM {values} WHERE {where}"
                params = fixed + params + [SmartTag.State.APPLIED.value]
            cursor.execute(sql, params)
