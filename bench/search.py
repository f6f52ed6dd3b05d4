"""Benchmark smart search against plain Wagtail search on the same data and queries.

Usage::

    python bench/search.py --database sqlite|postgres [--images 100000] [--repeat 20] [--rebuild] [--json]

Builds (once; kept for later runs unless ``--rebuild``) a library of ``--images`` Wagtail images, each
with a generated title and five smart tags, all created in bulk with no ML, in a dedicated database:
``bench/results/search-bench.sqlite3`` or the PostgreSQL database ``smarttags_bench`` on 127.0.0.1:5432 (user
postgres; override with SMARTTAGS_PG_HOST/PORT/USER). The example project's settings are used, with
the search backends replaced by:

* ``plain``: ``wagtail.search.backends.database``, Wagtail's own search;
* ``default``: ``wagtail_smarttags.search.backend`` wrapping that same backend.

Each query is timed the way the admin's image listing uses it: the result count and the first page
of 30 images (the paginator's two calls), through ``search()`` and ``autocomplete()``. Every query
runs once to warm caches, then ``--repeat`` times per backend, alternating backends. Reported: p50
and p95 of the wall-clock time in milliseconds over all queries and repetitions, and their ratio.

The data: titles combine a subject, an action and a setting from small vocabularies (so some titles
match a query fully and many partly); smart tags are five distinct tags per image out of a taxonomy
of 60, drawn with Zipf-like weights (common tags are on ~15% of images), confidence uniform in
0.3-0.99; 4% of smart tags are removed and 1% promoted.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE_SIZE = 30
SUBJECTS = ["woman", "man", "child", "dog", "cat", "couple", "runner", "cyclist", "chef", "student", "horse", "bird"]
ACTIONS = [
    "running",
    "walking",
    "sitting",
    "smiling",
    "reading",
    "cooking",
    "playing",
    "jumping",
    "swimming",
    "eating",
]
SETTINGS = ["beach", "park", "city", "forest", "kitchen", "office", "mountain", "street", "studio", "garden"]
TAXONOMY = (
    SUBJECTS
    + ACTIONS
    + SETTINGS
    + ["sunset", "night", "snow", "rain", "portrait", "landscape", "red", "blue", "green", "black and white"]
    + ["car", "bicycle", "coffee", "laptop", "phone", "book", "flowers", "tree", "building", "bridge"]
    + ["crowd", "sport", "food", "water", "sky", "shoes", "hat", "dress", "jacket", "glasses"]
)
QUERIES = [
    "woman running",
    "dog park",
    "beach sunset",
    "child playing",
    "coffee",
    "red car",
    "man reading book",
    "mountain snow",
    "bicycle city",
    "running shoes",
]


def configure_django(database):
    sys.path[:0] = [str(ROOT), str(ROOT / "example_project")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    if database == "postgres":
        os.environ["SMARTTAGS_DATABASE"] = "postgres"
        os.environ["SMARTTAGS_PG_NAME"] = "smarttags_bench"
    else:
        os.environ["SMARTTAGS_SQLITE_PATH"] = str(ROOT / "bench" / "results" / "search-bench.sqlite3")
    from example_project import settings

    # Before Django reads its settings: both backends over one index, updated once.
    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {
            "BACKEND": "wagtail_smarttags.search.backend",
            "WRAPPED_BACKEND": "wagtail.search.backends.database",
        },
        "plain": {"BACKEND": "wagtail.search.backends.database", "AUTO_UPDATE": False},
    }
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    settings.LOGGING = {"version": 1}
    settings.DEBUG = False
    if database == "postgres":
        _create_postgres_database(settings.DATABASES["default"])
    import django

    django.setup()


def _create_postgres_database(options):
    import psycopg

    with psycopg.connect(
        host=options["HOST"], port=options["PORT"], user=options["USER"], dbname="postgres", autocommit=True
    ) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [options["NAME"]]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{options["NAME"]}"')


def build_library(count, rebuild, seed=20261129):
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection
    from taggit.models import Tag
    from wagtail.images import get_image_model
    from wagtail.models import Collection
    from wagtail.search.backends import get_search_backend

    from wagtail_smarttags.models import SmartTag

    call_command("migrate", verbosity=0, interactive=False)
    image_model = get_image_model()
    if not rebuild and image_model.objects.count() == count and SmartTag.objects.count() == 5 * count:
        return False
    SmartTag.objects.all().delete()
    image_model.objects.all().delete()
    get_search_backend("plain").reset_indexes()
    random_numbers = random.Random(seed)
    collection = Collection.get_first_root_node()
    started = time.perf_counter()
    batch = []
    for number in range(count):
        title = (
            f"{random_numbers.choice(SUBJECTS).capitalize()} {random_numbers.choice(ACTIONS)} "
            f"in the {random_numbers.choice(SETTINGS)} {number}"
        )
        batch.append(
            image_model(
                title=title,
                file=f"original_images/bench-{number}.jpg",
                width=1200,
                height=800,
                file_size=123456,
                collection=collection,
            )
        )
        if len(batch) == 5000:
            image_model.objects.bulk_create(batch)
            batch = []
    image_model.objects.bulk_create(batch)
    print(f"images created in {time.perf_counter() - started:.0f}s", file=sys.stderr)

    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAXONOMY}
    weights = [1 / (rank + 1) ** 0.6 for rank in range(len(TAXONOMY))]
    random_numbers.shuffle(weights)
    content_type = ContentType.objects.get_for_model(image_model)
    rows = []
    for object_id in image_model.objects.order_by("pk").values_list("pk", flat=True).iterator():
        chosen = set()
        while len(chosen) < 5:
            chosen.add(random_numbers.choices(TAXONOMY, weights)[0])
        for name in chosen:
            draw = random_numbers.random()
            state = SmartTag.State.REMOVED if draw < 0.04 else SmartTag.State.PROMOTED if draw < 0.05 else "applied"
            rows.append(
                SmartTag(
                    content_type=content_type,
                    object_id=object_id,
                    tag=tags[name],
                    confidence=round(random_numbers.uniform(0.3, 0.99), 3),
                    source=SmartTag.Source.TRAINED,
                    state=state,
                )
            )
        if len(rows) >= 10000:
            SmartTag.objects.bulk_create(rows)
            rows = []
    SmartTag.objects.bulk_create(rows)
    print(f"smart tags created in {time.perf_counter() - started:.0f}s", file=sys.stderr)

    backend = get_search_backend("plain")
    queryset = image_model.get_indexed_objects().order_by("pk")
    last_pk = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last_pk)[:2000])
        if not chunk:
            break
        backend.add_bulk(image_model, chunk)
        last_pk = chunk[-1].pk
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"library indexed in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return True


def listing_page(backend_name, method, query):
    """What the admin listing asks of a search: the count and the first page."""
    from wagtail.images import get_image_model
    from wagtail.search.backends import get_search_backend

    backend = get_search_backend(backend_name)
    results = getattr(backend, method)(query, get_image_model().objects.all())
    count = results.count()
    page = list(results[:PAGE_SIZE])
    return count, page


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(repeat):
    timings = {}
    counts = {}
    for method in ("search", "autocomplete"):
        for backend_name in ("plain", "default"):
            for query in QUERIES:
                listing_page(backend_name, method, query)  # warm-up
        for _ in range(repeat):
            for query in QUERIES:
                for backend_name in ("plain", "default"):
                    started = time.perf_counter()
                    count, _page = listing_page(backend_name, method, query)
                    elapsed = (time.perf_counter() - started) * 1000
                    timings.setdefault((method, backend_name), []).append(elapsed)
                    counts[(method, backend_name, query)] = count
    return timings, counts


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    configure_django(arguments.database)
    build_library(arguments.images, arguments.rebuild)
    timings, counts = measure(arguments.repeat)
    report = []
    for method in ("search", "autocomplete"):
        plain, smart = timings[(method, "plain")], timings[(method, "default")]
        report.append(
            {
                "database": arguments.database,
                "images": arguments.images,
                "method": method,
                "plain_p50_ms": round(statistics.median(plain), 1),
                "plain_p95_ms": round(percentile(plain, 0.95), 1),
                "smart_p50_ms": round(statistics.median(smart), 1),
                "smart_p95_ms": round(percentile(smart, 0.95), 1),
                "ratio_p50": round(statistics.median(smart) / statistics.median(plain), 2),
                "ratio_p95": round(percentile(smart, 0.95) / percentile(plain, 0.95), 2),
                "results_plain": sum(counts[(method, "plain", query)] for query in QUERIES),
                "results_smart": sum(counts[(method, "default", query)] for query in QUERIES),
            }
        )
    if arguments.json:
        print(json.dumps(report, indent=2))
        return
    print("| database | method | plain p50 | plain p95 | smart p50 | smart p95 | ratio p50 | ratio p95 |")
    print("|---|---|---|---|---|---|---|---|")
    for row in report:
        print(
            f"| {row['database']} | {row['method']} | {row['plain_p50_ms']} ms | {row['plain_p95_ms']} ms "
            f"| {row['smart_p50_ms']} ms | {row['smart_p95_ms']} ms | {row['ratio_p50']}x | {row['ratio_p95']}x |"
        )
    print(f"results per run (all queries): plain {report[0]['results_plain']}, smart {report[0]['results_smart']}")


if __name__ == "__main__":
    main()
