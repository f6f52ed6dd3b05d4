"""Re-tagging the library from cached embeddings after a retrain, at scale.

Creates N images' tagging states and cached embeddings in bulk (random unit vectors with
cluster structure, no ML), trains one tag model of 50 tags on synthetic examples, then times
``pipeline.tagging.retag_from_cache`` — what runs in the worker after every training or rollback —
three times: the first run writes every smart tag; the second, a retrain on the same examples,
decides the same and writes only the tagging states; the third, a retrain on other examples,
changes the confidence of almost every smart tag. Then a fourth version, trained on other examples
again, is previewed (``training.preview``: the same reads and decisions, and every asset's smart-tag
rows, but nothing written) before activation. The write-ahead log of SQLite is checkpointed
after the setup, as a real library's long would be.

    python bench/retag.py [--assets 100000] [--tags 50] [--database sqlite|postgres|mysql] [--json]
"""

import argparse
import time

import numpy as np
from _django import publish, setup_django


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=100_000)
    parser.add_argument("--tags", type=int, default=50)
    parser.add_argument("--database", choices=["sqlite", "postgres", "mysql"], default="sqlite")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.database == "postgres":
        import os

        os.environ["SMARTTAGS_PG_NAME"] = "smarttags_bench_retag"
        _recreate_postgres_database("smarttags_bench_retag")
    elif args.database == "mysql":
        import os

        os.environ["SMARTTAGS_MYSQL_NAME"] = "smarttags_bench_retag"
        _recreate_mysql_database("smarttags_bench_retag")
    setup_django(args.database)

    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone
    from taggit.models import Tag
    from wagtail.images import get_image_model

    from wagtail_smarttags.ml.arrays import encode_array
    from wagtail_smarttags.ml.backbones.base import l2_normalise
    from wagtail_smarttags.ml.classifiers.ridge_centroid import train_classifier
    from wagtail_smarttags.models import EmbeddingCache, SmartTag, TaggingState, TagModel, TagModelTag, TrainingVersion
    from wagtail_smarttags.pipeline.loading import get_backbone
    from wagtail_smarttags.pipeline.tagging import retag_from_cache

    rng = np.random.default_rng(0)
    backbone_id = get_backbone().id
    dimension = get_backbone().dimension
    centres = l2_normalise(rng.normal(size=(args.tags, dimension)).astype(np.float32))

    def sample(count):
        labels = rng.integers(0, args.tags, size=count)
        noise = rng.normal(size=(count, dimension)).astype(np.float32) / 30
        return l2_normalise(centres[labels] + noise), labels

    started = time.perf_counter()
    tag_model = TagModel.objects.create(title="Synthetic")
    tags = [Tag.objects.create(name=f"tag-{index:02d}") for index in range(args.tags)]
    TagModelTag.objects.bulk_create([TagModelTag(tag_model=tag_model, tag=tag) for tag in tags])
    examples, labels = sample(args.tags * 30)
    classifier, _ = train_classifier(examples, [str(tags[label].pk) for label in labels])
    content_type = ContentType.objects.get_for_model(get_image_model())
    now = timezone.now()
    for start in range(0, args.assets, 5000):
        count = min(5000, args.assets - start)
        vectors, _ = sample(count)
        hashes = [f"{index:040x}" for index in range(start, start + count)]
        EmbeddingCache.objects.bulk_create(
            [
                EmbeddingCache(file_hash=h, backbone_id=backbone_id, vector=encode_array(v))
                for h, v in zip(hashes, vectors)
            ],
            batch_size=1000,  # 10 MB a statement: under MySQL's default max_allowed_packet of 16 MB
        )
        TaggingState.objects.bulk_create(
            [
                TaggingState(content_type=content_type, object_id=start + offset + 1, status="done", file_hash=h,
                             file_name=f"original_images/{h}.jpg", tagged_at=now)  # fmt: skip
                for offset, h in enumerate(hashes)
            ]
        )
    setup_seconds = time.perf_counter() - started
    if args.database == "sqlite":
        # A real library's cache was written over months and is long checkpointed; the gigabyte just
        # written still sits in the write-ahead log, where every read would have to look it up.
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # 1: the first training; 2: a retrain on the same examples (every decision the same, a new version);
    # 3: a retrain on other examples of the same tags (every confidence changes, a few tags).
    other_examples, other_labels = sample(args.tags * 30)
    retrained, _ = train_classifier(other_examples, [str(tags[label].pk) for label in other_labels])
    timings, changed = [], []
    for number, trained in ((1, classifier), (2, classifier), (3, retrained)):
        version = TrainingVersion.objects.create(
            tag_model=tag_model, number=number, status="succeeded", backbone_id=backbone_id, finished_at=timezone.now()
        )
        version.set_parameters(trained.to_arrays())
        version.save()
        TagModel.objects.filter(pk=tag_model.pk).update(active_version=version)
        started = time.perf_counter()
        applied = retag_from_cache(tag_model.pk)
        timings.append(time.perf_counter() - started)
        assert applied == args.assets, applied
        changed.append(SmartTag.objects.filter(tag_model=tag_model, version=version).count())
    smart_tags = SmartTag.objects.filter(tag_model=tag_model).count()

    from wagtail_smarttags.training.preview import compute_preview

    previewed_examples, previewed_labels = sample(args.tags * 30)
    previewed, _ = train_classifier(previewed_examples, [str(tags[label].pk) for label in previewed_labels])
    version = TrainingVersion.objects.create(
        tag_model=tag_model, number=4, status="succeeded", backbone_id=backbone_id, finished_at=timezone.now(),
        activate_when_trained=False, metrics={"tags": {str(tag.pk): {"name": tag.name} for tag in tags}},
    )  # fmt: skip
    version.set_parameters(previewed.to_arrays())
    version.save()
    started = time.perf_counter()
    preview = compute_preview(version)
    preview_seconds = time.perf_counter() - started
    assert preview["status"] == "ready" and preview["assets"] == args.assets, preview.get("error")
    results = {
        "database": args.database,
        "assets": args.assets,
        "tags": args.tags,
        "setup_seconds": setup_seconds,
        "first_retag_seconds": timings[0],
        "second_retag_seconds": timings[1],
        "assets_per_second": args.assets / timings[1],
        "changing_retag_seconds": timings[2],
        "rows_written_by_each_version": changed,
        "smart_tags_written": smart_tags,
        "preview_seconds": preview_seconds,
        "preview_assets_changed": preview["changed"],
    }
    publish(f"retag_{args.database}", results, args.json, print_table)


def print_table(results):
    assets, tags, database = results["assets"], results["tags"], results["database"]
    print(f"Re-tag {assets:,} cached embeddings with one {tags}-tag model on {database}")
    print(f"{'first re-tag (writes every smart tag)':<42} {results['first_retag_seconds']:>7.1f} s")
    print(
        f"{'second re-tag (after a retrain)':<42} {results['second_retag_seconds']:>7.1f} s  "
        f"({results['assets_per_second']:,.0f}/s)"
    )
    print(
        f"{'third re-tag (retrained on other examples)':<42} {results['changing_retag_seconds']:>7.1f} s  "
        f"({results['rows_written_by_each_version'][2]:,} smart tags changed)"
    )
    print(f"{'smart tags applied':<42} {results['smart_tags_written']:>9,}")
    print(
        f"{'preview of a fourth version (writes nothing)':<42} {results['preview_seconds']:>7.1f} s  "
        f"({results['preview_assets_changed']:,} assets would change)"
    )


def _recreate_postgres_database(name):
    import psycopg

    with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def _recreate_mysql_database(name):
    import os

    import MySQLdb

    connection = MySQLdb.connect(
        host=os.environ.get("SMARTTAGS_MYSQL_HOST", "127.0.0.1"),
        user=os.environ.get("SMARTTAGS_MYSQL_USER", "smarttags"),
        password=os.environ.get("SMARTTAGS_MYSQL_PASSWORD", "smarttags"),
        port=int(os.environ.get("SMARTTAGS_MYSQL_PORT", "3306")),
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
    connection.close()


if __name__ == "__main__":
    main()
