"""Print the queries a smart search makes and the database's plan for each, on a library of bench/search.py.

Usage::

    python bench/search_plans.py [--database sqlite|postgres] [--images 100000] [--method autocomplete]
                                 [--mode listing|chooser] [--json] "woman running" ["coffee" ...]

The library must exist (run ``bench/search.py`` first). Each query is run as the admin listing (or the
chooser) runs it, its SQL statements are captured, and each is explained: ``EXPLAIN QUERY PLAN`` on
SQLite, ``EXPLAIN (ANALYZE, BUFFERS)`` on PostgreSQL (which runs it again, so the times are real).
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import search as bench  # noqa: E402


def explain(sql, params):
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return ["  " * (row[1] and 1) + row[-1] for row in cursor.fetchall()]
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return [row[0] for row in cursor.fetchall()]


def plans(method, mode, query):
    import time

    from django.db import connection

    bench.run_query("default", method, mode, query)  # warm
    statements = []

    def record(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = round((time.perf_counter() - started) * 1000, 1)
            statements.append({"sql": sql, "params": params, "milliseconds": elapsed})

    with connection.execute_wrapper(record):
        count, _page = bench.run_query("default", method, mode, query)
    for statement in statements:
        statement["plan"] = explain(statement["sql"], statement["params"])
        statement["params"] = [str(param) for param in statement["params"] or ()]
    return {"query": query, "method": method, "mode": mode, "count": count, "statements": statements}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("queries", nargs="+")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--method", choices=bench.METHODS, default="autocomplete")
    parser.add_argument("--mode", choices=bench.MODES, default="listing")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    bench.configure_django(arguments.database, "smart", arguments.images)
    reports = [plans(arguments.method, arguments.mode, query) for query in arguments.queries]
    if arguments.json:
        print(json.dumps(reports, indent=2))
        return
    for report in reports:
        heading = f"{report['method']}({report['query']!r}), as the {report['mode']} runs it"
        print(f"## {heading}: {report['count']} results")
        for number, statement in enumerate(report["statements"], 1):
            print(f"\n{number}. {statement['milliseconds']} ms\n\n    {statement['sql']}\n    {statement['params']}\n")
            for line in statement["plan"]:
                print(f"    {line}")
        print()


if __name__ == "__main__":
    main()
