import json
import os

from django.core.management.base import BaseCommand, CommandError

from wagtail_smarttags.ml.errors import UnreadableAssetError
from wagtail_smarttags.ml.text import DEFAULT_TOP_N
from wagtail_smarttags.pipeline.kinds.base import reader_limits
from wagtail_smarttags.pipeline.kinds.documents import keywords_in_reader


class Command(BaseCommand):
    help = (
        "Print the smart tags the worker would give to text documents (phrase, score, matched taxonomy tag). "
        "Existing taggit tag names are the taxonomy unless --tag or --no-taxonomy is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument(
            "--top", type=int, default=DEFAULT_TOP_N, help=f"keywords per file (default {DEFAULT_TOP_N})"
        )
        parser.add_argument("--json", action="store_true", help="print one JSON document for all files")
        parser.add_argument("--tag", action="append", default=[], help="a taxonomy tag name (repeatable)")
        parser.add_argument("--no-taxonomy", action="store_true", help="do not read tag names from the database")

    def handle(self, *args, **options):
        if options["top"] < 1:
            raise CommandError("--top must be at least 1")
        taxonomy = list(options["tag"])
        if not options["tag"] and not options["no_taxonomy"]:
            from taggit.models import Tag

            taxonomy = list(Tag.objects.values_list("name", flat=True))

        results = []
        failures = 0
        for path in options["files"]:
            try:
                keywords, details = keywords_in_reader(
                    os.path.abspath(path), os.path.basename(path), reader_limits(), taxonomy=taxonomy,
                    top_n=options["top"],
                )  # fmt: skip
            except UnreadableAssetError as error:
                failures += 1
                results.append({"file": path, "error": str(error)})
                continue
            results.append(
                {
                    "file": path,
                    **details,
                    "keywords": [
                        {"phrase": keyword.phrase, "score": keyword.score, "tag": keyword.tag} for keyword in keywords
                    ],
                }
            )

        if options["json"]:
            self.stdout.write(json.dumps(results, indent=2, ensure_ascii=False))
        else:
            for result in results:
                self._write_text(result)
        if failures == len(results):
            raise CommandError(f"No text could be read from {'any of the files' if failures > 1 else 'the file'}.")

    def _write_text(self, result):
        self.stdout.write(self.style.MIGRATE_HEADING(result["file"]))
        if "error" in result:
            self.stdout.write(self.style.ERROR(f"  unreadable: {result['error']}"))
            return
        truncated = f", truncated by {result['truncated_by']}" if result["truncated_by"] else ""
        size = f"{result['characters']} characters{truncated}"
        self.stdout.write(f"  {result['format'].upper()}, language {result['language']}, {size}")
        if not result["keywords"]:
            self.stdout.write("  no keywords")
        for keyword in result["keywords"]:
            tag = f"  -> tag {keyword['tag']!r}" if keyword["tag"] else ""
            self.stdout.write(f"  {keyword['score']:.3f}  {keyword['phrase']}{tag}")
