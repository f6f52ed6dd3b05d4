"""Benchmark smart search against what the same library costs when the tags are put on by hand.

Usage::

    python bench/search.py [--database sqlite postgres] [--images 100000 1000000] [--repeat 10]
                           [--rebuild] [--build-only] [--json]

For each database and size, two libraries of ``--images`` Wagtail images are built (once; kept for
later runs unless ``--rebuild``), all rows created in bulk with no ML:

* **smart**: each image has a generated title and five smart tags (``SmartTag`` rows);
* **hand-tagged**: the same images, titles and tags, but the tags an editor would have kept (applied
  and promoted, not removed) are ordinary django-taggit tags, indexed with the images.

Each library lives in its own database (``bench/results/search-<library>-<images>.sqlite3``, or the
PostgreSQL database ``smarttags_bench_<library>_<images>`` on 127.0.0.1:5432), served by its own process;
how long each set-up step took is kept beside it (``search-<database>-<library>-<images>.setup.json``), so
a later run reports it too, and ``--build-only`` builds the libraries without timing queries (to build a
large library while the machine is busy and time its queries once it is idle);
the parent sends every query to the three configurations in turn, so machine load weighs on all alike:

* ``smart``: ``wagtail_smarttags.search.backend`` wrapping Wagtail's database backend, smart library;
* ``original``: Wagtail's database backend alone on the smart library (the data without its smart tags);
* ``hand-tagged``: Wagtail's database backend on the hand-tagged library.

Each query is timed through ``search()`` and ``autocomplete()`` as the admin's image listing runs it (all
images, a count and the first page of 30) and as the image chooser runs it (the images an editor may
choose: three collections of four, through Wagtail's permission policy; a count and the first page of 20).
Every query runs once to warm caches, then ``--repeat`` times. A query the database has not answered
after ``--timeout`` seconds is stopped and not run again: it counts as the time limit in every round, a
lower bound (Wagtail's SQLite backend ranks each full-text match with a subquery that runs the query
again, so its plain search of thousands of matches takes minutes). Reported: p50 and p95 in milliseconds
and their ratios, over all queries (smart against hand-tagged) and over the queries that match no smart
tag (smart against original).
"""

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
LISTING_PAGE, CHOOSER_PAGE = 30, 20
COLLECTIONS = ["Campaigns", "Products", "Events", "Archive"]
EDITOR_COLLECTIONS = COLLECTIONS[:3]
SUBJECTS = ["woman", "man", "child", "dog", "cat", "couple", "runner", "cyclist", "chef", "student", "horse", "bird"]
ACTIONS = ["running", "walking", "sitting", "smiling", "reading", "cooking", "playing", "jumping", "swimming"]
ACTIONS += ["eating"]
SETTINGS = ["beach", "park", "city", "forest", "kitchen", "office", "mountain", "street", "studio", "garden"]
# Words of titles only: no smart tag has them.
EVENTS = ["press conference", "product launch", "summer festival", "annual report", "wedding", "brochure"]
TAXONOMY = (
    SUBJECTS
    + ACTIONS
    + SETTINGS
    + ["sunset", "night", "snow", "rain", "portrait", "landscape", "red", "blue", "green", "black and white"]
    + ["car", "bicycle", "coffee", "laptop", "phone", "book", "flowers", "tree", "building", "bridge"]
    + ["crowd", "sport", "food", "water", "sky", "shoes", "hat", "dress", "jacket", "glasses"]
)
# (query, what it matches): single and multi-word; titles only, smart tags only, both, neither; prefixes.
QUERIES = [
    ("coffee", "smart tags only"),
    ("red car", "smart tags only"),
    ("sunset beach", "both"),
    ("woman running", "both"),
    ("dog", "both"),
    ("man reading book", "both"),
    ("wedding", "titles only"),
    ("press conference", "titles only"),
    ("zebra", "neither"),
    ("quantum physics", "neither"),
    ("coff", "prefix, smart tags only"),
    ("run", "prefix, both"),
    ("conf", "prefix, titles only"),
    ("zeb", "prefix, neither"),
]
NO_SMART_TAG = {"titles only", "neither", "prefix, titles only", "prefix, neither"}
CONFIGURATIONS = [("smart", "smart", "default"), ("original", "smart", "plain"), ("hand-tagged", "tagged", "plain")]
METHODS = ("search", "autocomplete")
MODES = ("listing", "chooser")


# In each library's process -----------------------------------------------------------------------


def configure_django(database, library, images):
    sys.path[:0] = [str(ROOT), str(ROOT / "example_project")]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    if database == "postgres":
        os.environ["SMARTTAGS_DATABASE"] = "postgres"
        os.environ["SMARTTAGS_PG_NAME"] = f"smarttags_bench_{library}_{images}"
    else:
        RESULTS.mkdir(parents=True, exist_ok=True)
        os.environ["SMARTTAGS_SQLITE_PATH"] = str(RESULTS / f"search-{library}-{images}.sqlite3")
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


def library_tags(count, seed=20261129):
    """Per image, its title and five ``(tag, confidence, state)``: the same draws for both libraries."""
    draws = random.Random(seed)
    weights = [1 / (rank + 1) ** 0.6 for rank in range(len(TAXONOMY))]
    draws.shuffle(weights)
    for number in range(count):
        title = (
            f"{draws.choice(SUBJECTS).capitalize()} {draws.choice(ACTIONS)} in the {draws.choice(SETTINGS)}, "
            f"{draws.choice(EVENTS)} {number}"
        )
        chosen = []
        while len(chosen) < 5:
            name = draws.choices(TAXONOMY, weights)[0]
            if name not in chosen:
                chosen.append(name)
        tags = []
        for name in chosen:
            draw = draws.random()
            state = "removed" if draw < 0.04 else "promoted" if draw < 0.05 else "applied"
            tags.append((name, round(draws.uniform(0.3, 0.99), 3), state))
        yield title, COLLECTIONS[number % len(COLLECTIONS)], tags


def build_library(library, count, rebuild):
    """Create the library unless it is there; returns ``{step: seconds}`` of the set-up, or ``None``."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.core.management import call_command
    from django.db import connection, transaction
    from taggit.models import Tag, TaggedItem
    from wagtail.images import get_image_model
    from wagtail.models import Collection, GroupCollectionPermission
    from wagtail.search.backends import get_search_backend

    from wagtail_smarttags.models import SmartTag

    call_command("migrate", verbosity=0, interactive=False)
    image_model = get_image_model()
    tag_rows = SmartTag.objects if library == "smart" else TaggedItem.objects
    if not rebuild and image_model.objects.count() == count and tag_rows.exists():
        return _recorded_setup(library, count)
    timings, started = {}, time.perf_counter()

    def step(name):
        nonlocal started
        now = time.perf_counter()
        timings[name] = round(now - started, 1)
        started = now

    SmartTag.objects.all().delete()
    TaggedItem.objects.all().delete()
    image_model.objects.all().delete()
    get_search_backend("plain").reset_indexes()
    step("clear")
    root = Collection.get_first_root_node()
    collections = {}
    for name in COLLECTIONS:
        collections[name] = root.get_children().filter(name=name).first() or root.add_child(name=name)
    editors, _ = Group.objects.get_or_create(name="Bench editors")
    choose = Permission.objects.get(content_type__app_label="wagtailimages", codename="choose_image")
    for name in EDITOR_COLLECTIONS:
        GroupCollectionPermission.objects.get_or_create(group=editors, collection=collections[name], permission=choose)
    editor, _ = get_user_model().objects.get_or_create(username="bench-editor", defaults={"email": "e@example.com"})
    editor.groups.add(editors)

    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAXONOMY}
    content_type = ContentType.objects.get_for_model(image_model)
    images, rows = [], []
    drawn = library_tags(count)

    def flush_images():
        image_model.objects.bulk_create(images)
        images.clear()

    draws_by_number = []
    for number, (title, collection, tag_draws) in enumerate(drawn):
        images.append(
            image_model(
                title=title,
                file=f"original_images/bench-{number}.jpg",
                width=1200,
                height=800,
                file_size=123456,
                collection=collections[collection],
            )
        )
        draws_by_number.append(tag_draws)
        if len(images) == 5000:
            flush_images()
    flush_images()
    step("images")

    with transaction.atomic():
        ids = image_model.objects.order_by("pk").values_list("pk", flat=True).iterator(chunk_size=20000)
        for object_id, tag_draws in zip(ids, draws_by_number, strict=True):
            for name, confidence, state in tag_draws:
                if library == "smart":
                    rows.append(
                        SmartTag(
                            content_type=content_type,
                            object_id=object_id,
                            tag=tags[name],
                            confidence=confidence,
                            source=SmartTag.Source.TRAINED,
                            state=state,
                        )
                    )
                elif state != "removed":
                    rows.append(TaggedItem(content_type=content_type, object_id=object_id, tag=tags[name]))
            if len(rows) >= 20000:
                type(rows[0]).objects.bulk_create(rows)
                rows = []
        if rows:
            type(rows[0]).objects.bulk_create(rows)
    step("tags")
    if library == "smart":
        from wagtail_smarttags.search.words import rebuild_search_words

        rebuild_search_words()
        step("search words")

    backend = get_search_backend("plain")
    queryset = image_model.get_indexed_objects().order_by("pk")
    last_pk = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last_pk)[:2000])
        if not chunk:
            break
        backend.add_bulk(image_model, chunk)
        last_pk = chunk[-1].pk
    step("search index")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    step("analyze")
    timings["total"] = round(sum(timings.values()), 1)
    _setup_path(library, count).write_text(json.dumps(timings, indent=2))
    return timings


def _setup_path(library, count):
    from django.db import connection

    RESULTS.mkdir(parents=True, exist_ok=True)
    database = "postgres" if connection.vendor == "postgresql" else connection.vendor
    return RESULTS / f"search-{database}-{library}-{count}.setup.json"


def _recorded_setup(library, count):
    """The set-up steps of the run that built this library, if it recorded them."""
    path = _setup_path(library, count)
    return json.loads(path.read_text()) if path.exists() else None


def chooser_queryset():
    """The images the bench editor may choose, as Wagtail's image chooser asks for them."""
    from django.contrib.auth import get_user_model
    from wagtail.images import get_image_model

    from wagtail_smarttags.pipeline.kinds import IMAGE, get_asset_kind

    editor = get_user_model().objects.get(username="bench-editor")
    policy = get_asset_kind(IMAGE).permission_policy()
    assert policy.model is get_image_model()
    return policy.instances_user_has_any_permission_for(editor, ["choose"]).select_related("collection")


def run_query(backend_name, method, mode, query):
    """The count and the first page, as the listing or the chooser asks for them."""
    from wagtail.images import get_image_model
    from wagtail.search.backends import get_search_backend

    backend = get_search_backend(backend_name)
    if mode == "listing":
        queryset, page_size = get_image_model().objects.all(), LISTING_PAGE
    else:
        queryset, page_size = chooser_queryset(), CHOOSER_PAGE
    results = getattr(backend, method)(query, queryset)
    count = results.count()
    page = list(results[:page_size])
    return count, [image.pk for image in page]


def timed_query(request, timeout):
    """``(milliseconds, count)``, or ``(None, None)`` when the database was stopped after ``timeout`` seconds."""
    import threading

    from django.db import OperationalError, connection
    from django.db.utils import DatabaseError

    connection.ensure_connection()
    timer = None
    if connection.vendor == "sqlite":
        timer = threading.Timer(timeout, connection.connection.interrupt)
        timer.start()
    else:
        with connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {int(timeout * 1000)}")
    started = time.perf_counter()
    try:
        count, _page = run_query(*request)
    except (OperationalError, DatabaseError):
        return None, None
    finally:
        if timer is not None:
            timer.cancel()
    return (time.perf_counter() - started) * 1000, count


def serve(pipe, database, library, images, rebuild, timeout):
    """A library's process: build it, then answer ``(backend, method, mode, query)`` with ``(ms, count)``."""
    configure_django(database, library, images)
    pipe.send(("ready", build_library(library, images, rebuild)))
    while (request := pipe.recv()) is not None:
        pipe.send(timed_query(request, timeout))


# In the parent ----------------------------------------------------------------------------------


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def measure(database, images, repeat, rebuild, timeout, build_only=False):
    context = multiprocessing.get_context("spawn")
    servers, setup = {}, {}
    for library in ("smart", "tagged"):
        parent, child = context.Pipe()
        arguments = (child, database, library, images, rebuild, timeout)
        process = context.Process(target=serve, args=arguments, daemon=True)
        process.start()
        status, timings = parent.recv()  # one library at a time: building is heavy
        servers[library] = (parent, process)
        setup[library] = timings
    timings, counts, stopped = {}, {}, set()
    try:
        for round_number in range(0 if build_only else repeat + 1):
            for query, kind in QUERIES:
                for method in METHODS:
                    for mode in MODES:
                        for name, library, backend_name in CONFIGURATIONS:
                            key = (name, method, mode, query)
                            if key in stopped:
                                # It ran out of time once and would again: it counts as the limit, a lower bound.
                                elapsed = timeout * 1000
                            else:
                                pipe = servers[library][0]
                                pipe.send((backend_name, method, mode, query))
                                elapsed, count = pipe.recv()
                                if elapsed is None:
                                    stopped.add(key)
                                    elapsed = timeout * 1000
                                else:
                                    counts[key] = count
                            if round_number:  # the first round warms caches
                                timings.setdefault((name, method, mode), []).append((elapsed, kind))
    finally:
        for pipe, process in servers.values():
            pipe.send(None)
            process.join(timeout=30)
    return timings, counts, setup, sorted(stopped)


def _times(timings, name, method, mode, only_without_smart_tags=False):
    measured = timings[(name, method, mode)]
    return [elapsed for elapsed, kind in measured if not only_without_smart_tags or kind in NO_SMART_TAG]


def summarise(database, images, timings, counts, setup, stopped, timeout):
    rows = []
    for method in METHODS:
        for mode in MODES:
            row = {"database": database, "images": images, "method": method, "mode": mode}
            for label, name, only_without in [
                ("smart", "smart", False),
                ("hand_tagged", "hand-tagged", False),
                ("smart_no_smart_tag", "smart", True),
                ("original_no_smart_tag", "original", True),
            ]:
                values = _times(timings, name, method, mode, only_without)
                row[f"{label}_p50_ms"] = round(statistics.median(values), 1)
                row[f"{label}_p95_ms"] = round(percentile(values, 0.95), 1)
            for label, (numerator, denominator) in {
                "vs_hand_tagged": ("smart", "hand_tagged"),
                "vs_original": ("smart_no_smart_tag", "original_no_smart_tag"),
            }.items():
                for quantile in ("p50", "p95"):
                    row[f"{label}_{quantile}"] = round(
                        row[f"{numerator}_{quantile}_ms"] / max(row[f"{denominator}_{quantile}_ms"], 0.01), 2
                    )
            row["results"] = {
                query: {name: counts.get((name, method, mode, query)) for name, _, _ in CONFIGURATIONS}
                for query, _ in QUERIES
            }
            row["stopped"] = [
                {"configuration": name, "query": query}
                for name, stopped_method, stopped_mode, query in stopped
                if (stopped_method, stopped_mode) == (method, mode)
            ]
            rows.append(row)
    return {
        "database": database,
        "images": images,
        "timeout_seconds": timeout,
        "setup_seconds": setup,
        "rows": rows,
    }


def print_table(reports):
    print(
        "| database | images | method | as run by | smart p50 / p95 | hand-tagged p50 / p95 | ratio | "
        "no smart tag: smart | original | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for report in reports:
        for row in report["rows"]:
            print(
                f"| {row['database']} | {row['images']:,} | {row['method']} | {row['mode']} "
                f"| {row['smart_p50_ms']} / {row['smart_p95_ms']} ms "
                f"| {row['hand_tagged_p50_ms']} / {row['hand_tagged_p95_ms']} ms "
                f"| {row['vs_hand_tagged_p50']}× / {row['vs_hand_tagged_p95']}× "
                f"| {row['smart_no_smart_tag_p50_ms']} / {row['smart_no_smart_tag_p95_ms']} ms "
                f"| {row['original_no_smart_tag_p50_ms']} / {row['original_no_smart_tag_p95_ms']} ms "
                f"| {row['vs_original_p50']}× / {row['vs_original_p95']}× |"
            )
    for report in reports:
        for row in report["rows"]:
            for name in ("smart", "original", "hand-tagged"):
                queries = [entry["query"] for entry in row["stopped"] if entry["configuration"] == name]
                if queries:
                    print(
                        f"stopped at {report['timeout_seconds']:g} s, {report['database']} {report['images']:,} "
                        f"{row['method']} {row['mode']}, {name}: {', '.join(queries)}"
                    )
        for library, timings in report["setup_seconds"].items():
            if timings:
                steps = ", ".join(f"{name} {seconds:,} s" for name, seconds in timings.items())
                print(f"set-up, {report['database']} {report['images']:,} {library}: {steps}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", nargs="+", choices=["sqlite", "postgres"], default=["sqlite"])
    parser.add_argument("--images", nargs="+", type=int, default=[100_000])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds a query may run (default 10)")
    parser.add_argument("--build-only", action="store_true", help="build the libraries, time no query")
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    reports = []
    for database in arguments.database:
        for images in arguments.images:
            measured = measure(
                database, images, arguments.repeat, arguments.rebuild, arguments.timeout, arguments.build_only
            )
            if arguments.build_only:
                print(f"built, {database} {images:,}: {json.dumps(measured[2])}")
            else:
                reports.append(summarise(database, images, *measured, arguments.timeout))
    RESULTS.mkdir(parents=True, exist_ok=True)
    for report in reports:
        path = RESULTS / f"search-{report['database']}-{report['images']}.json"
        path.write_text(json.dumps(report, indent=2))
        print(f"JSON: {path}", file=sys.stderr)
    if arguments.json:
        print(json.dumps(reports, indent=2))
    else:
        print_table(reports)


if __name__ == "__main__":
    main()
