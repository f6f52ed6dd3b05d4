"""Run a benchmark inside the example project, on a throw-away SQLite database and media folder."""

import os
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(os.environ.get("SMARTTAGS_SHARED_DATASETS", REPOSITORY.parent / "shared" / "datasets"))
RESULTS = REPOSITORY / "bench" / "results"


def setup_django(database="sqlite"):
    """Configure the example project on a fresh temporary database; returns its folder."""
    workdir = Path(tempfile.mkdtemp(prefix="smarttags-bench-"))
    os.environ.setdefault("SMARTTAGS_SQLITE_PATH", str(workdir / "bench.sqlite3"))
    os.environ.setdefault("SMARTTAGS_MEDIA_ROOT", str(workdir / "media"))
    if database in ("postgres", "mysql"):
        os.environ["SMARTTAGS_DATABASE"] = database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")
    # Measure what production runs: with DEBUG on, Django also formats and keeps every query.
    os.environ.setdefault("DJANGO_DEBUG", "0")
    sys.path.insert(0, str(REPOSITORY / "example_project"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return workdir


def require_dataset(name):
    path = SHARED_DATASETS / name
    if not path.exists():
        sys.exit(f"{path} is not present: the benchmarks need ../shared/datasets beside the repository.")
    return path


def clothing_photos_arguments(description):
    """``(arguments, clothing folder)`` of a benchmark over the clothing photos: ``--limit`` and ``--json``."""
    import argparse

    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None, help="At most this many photos per class.")
    parser.add_argument("--json", action="store_true", help="Print the JSON results instead of the table.")
    return parser.parse_args(), require_dataset("clothing")


def publish(name, results, as_json, print_table):
    """Write the JSON results, then print them (``--json``) or ``print_table(results)``."""
    import json

    path = write_results(name, results)
    if as_json:
        print(json.dumps(results, indent=2))
    else:
        print_table(results)
    print(f"JSON: {path}", file=sys.stderr)


def write_results(name, results):
    import json

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(results, indent=2))
    return path
