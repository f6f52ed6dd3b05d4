"""The management commands, run as a developer would run them, on small slices of real photographs."""

import json
import shutil
from io import StringIO

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from wagtail.images import get_image_model

from wagtail_smarttags.models import SmartTag, TaggingState, TagModel, TrainingExample

from .datasets import clothing_images
from .factories import create_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def example_tree(tmp_path):
    """A folder per tag, as a user would lay out example images for import."""
    root = tmp_path / "examples"
    for tag, paths in clothing_images("train", ["hat", "shoes"], per_class=10).items():
        (root / tag).mkdir(parents=True)
        for path in paths:
            shutil.copy(path, root / tag / path.name)
    return root


def run(*args, **options):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def test_import_examples_adds_images_and_examples(example_tree):
    out, _ = run("smarttags_import_examples", "Garments", str(example_tree))
    tag_model = TagModel.objects.get(title="Garments")
    assert sorted(tag_model.tags.values_list("name", flat=True)) == ["hat", "shoes"]
    assert TrainingExample.objects.filter(tag_model=tag_model, tag__name="hat").count() == 10
    assert get_image_model().objects.count() == 20
    assert "Tag model 'Garments' has 20 examples." in out

    # Importing again reuses the same images (matched by content) instead of duplicating the library.
    run("smarttags_import_examples", "Garments", str(example_tree))
    assert get_image_model().objects.count() == 20
    assert tag_model.examples.count() == 20


def test_import_refuses_an_image_as_example_of_two_tags(example_tree):
    first_hat = sorted((example_tree / "hat").iterdir())[0]
    shutil.copy(first_hat, example_tree / "shoes" / "also-a-hat.jpg")
    _, err = run("smarttags_import_examples", "Garments", str(example_tree))
    assert "already an example of 'hat'" in err
    assert TrainingExample.objects.filter(tag__name="shoes").count() == 10


def test_import_needs_a_folder_per_tag(tmp_path):
    with pytest.raises(CommandError, match="has no sub-folders"):
        run("smarttags_import_examples", "Garments", str(tmp_path))


def test_train_prints_per_tag_metrics(example_tree):
    run("smarttags_import_examples", "Garments", str(example_tree))
    out, _ = run("smarttags_train", "Garments")
    assert "'Garments' is trained; version 1 is active." in out
    assert "hat" in out and "shoes" in out
    tag_model = TagModel.objects.get(title="Garments")
    assert tag_model.status == TagModel.Status.TRAINED

    out, _ = run("smarttags_train", str(tag_model.pk), json=True)
    metrics = json.loads(out)
    assert {tag["name"] for tag in metrics["tags"].values()} == {"hat", "shoes"}


def test_train_with_preview_leaves_the_active_version_and_prints_what_would_change(example_tree):
    run("smarttags_import_examples", "Garments", str(example_tree))
    run("smarttags_train", "Garments")
    out, _ = run("smarttags_train", "Garments", preview=True)
    assert "version 2 waits to be activated or discarded" in out
    assert "Activating it would change" in out and "gain" in out
    tag_model = TagModel.objects.get(title="Garments")
    assert tag_model.active_version.number == 1
    out, _ = run("smarttags_train", "Garments", preview=True, json=True)
    preview = json.loads(out)["preview"]
    assert preview["status"] == "ready" and preview["compared_with"] == 1
    assert {tag["name"] for tag in preview["tags"].values()} == {"hat", "shoes"}


def test_train_reports_a_failure_clearly(example_tree):
    shutil.rmtree(example_tree / "shoes")
    run("smarttags_import_examples", "Hats only", str(example_tree))
    with pytest.raises(CommandError, match="at least two tags"):
        run("smarttags_train", "Hats only")
    assert TagModel.objects.get(title="Hats only").status == TagModel.Status.FAILED


def test_train_unknown_model():
    with pytest.raises(CommandError, match="No tag model"):
        run("smarttags_train", "Nope")


def test_tag_command_tags_pending_and_named_assets(example_tree, settings):
    run("smarttags_import_examples", "Garments", str(example_tree))
    run("smarttags_train", "Garments")
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    hat = create_image(clothing_images("validation", ["hat"], per_class=1)["hat"][0])
    broken = create_image(b"\x89PNG\r\n\x1a\n broken", name="broken.png", width=5, height=5)
    content_type = ContentType.objects.get_for_model(hat)

    out, _ = run("smarttags_tag")
    assert "Tagged" in out
    assert SmartTag.objects.filter(content_type=content_type, object_id=hat.pk, tag__name="hat").exists()
    assert TaggingState.objects.get(object_id=broken.pk, content_type=content_type).status == "failed"

    # Failed assets are left alone unless asked for; a named asset is always re-tagged.
    out, _ = run("smarttags_tag")
    assert "nothing to do" in out
    out, _ = run("smarttags_tag", failed=True)
    assert "1 failed" in out
    out, _ = run("smarttags_tag", f"image:{hat.pk}")
    assert "1 done" in out


def test_tag_command_rejects_bad_asset_names():
    with pytest.raises(CommandError, match="KIND:ID"):
        run("smarttags_tag", "picture:3")


def test_evaluate_reports_quality_on_folder_trees(tmp_path):
    for split, per_class in (("train", 12), ("validation", 4)):
        for tag, paths in clothing_images(split, ["hat", "shoes", "pants"], per_class=per_class).items():
            (tmp_path / split / tag).mkdir(parents=True)
            for path in paths:
                shutil.copy(path, tmp_path / split / tag / path.name)
    (tmp_path / "validation" / "hat" / "corrupt.jpg").write_bytes(b"not a jpeg")
    out, err = run(
        "smarttags_evaluate",
        train=str(tmp_path / "train"),
        test=str(tmp_path / "validation"),
        shots="5,10",
        draws=2,
        json=True,
    )
    results = json.loads(out)
    assert "Skipping" in err and "corrupt.jpg" in err
    assert results["test_images"] == 12
    assert set(results["shots"]) == {"5", "10"}
    for summary in results["shots"].values():
        assert len(summary["top1"]["runs"]) == 2
        assert summary["top1"]["mean"] > 0.6
        assert 0 <= summary["rejection_rate"]["mean"] <= 1
        assert set(summary["per_tag"]) == {"hat", "shoes", "pants"}

    table, _ = run("smarttags_evaluate", train=str(tmp_path / "train"), test=str(tmp_path / "validation"), shots="5")
    assert "top-1" in table and "Per tag at 5 shots" in table


def copy_images(images, root):
    for name, paths in images.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for path in paths:
            shutil.copy(path, root / name / path.name)


def test_evaluate_measures_foreign_images_against_a_library(tmp_path):
    tags, foreign = ["pants", "t-shirt"], ["shorts", "longsleeve"]
    copy_images(clothing_images("train", tags, per_class=10), tmp_path / "train")
    copy_images(clothing_images("validation", tags, per_class=4), tmp_path / "test")
    copy_images(clothing_images("validation", foreign, per_class=4), tmp_path / "foreign")
    # The library's folders mean nothing: photos at any depth, some of the tags' among them.
    copy_images(clothing_images("train", foreign, per_class=15, offset=20), tmp_path / "library" / "2026" / "uploads")
    copy_images(clothing_images("train", tags, per_class=5, offset=40), tmp_path / "library")
    arguments = {"train": str(tmp_path / "train"), "test": str(tmp_path / "test"), "shots": "10", "draws": 2}
    results = json.loads(
        run("smarttags_evaluate", **arguments, foreign=str(tmp_path / "foreign"), library=str(tmp_path / "library"),
            json=True)[0]  # fmt: skip
    )
    assert results["foreign_images"] == 8 and results["library_images"] == 40 and results["test_images"] == 8
    summary = results["shots"]["10"]
    for measure in ("top1", "correct_applied", "foreign_tagged", "rejection_rate"):
        assert len(summary[measure]["runs"]) == 2 and 0 <= summary[measure]["mean"] <= 1
    assert summary["correct_applied"]["mean"] <= summary["top1"]["mean"]
    assert set(summary["foreign_tagged_per_class"]) == set(foreign)

    alone = json.loads(run("smarttags_evaluate", **arguments, foreign=str(tmp_path / "foreign"), json=True)[0])
    assert alone["library_images"] == 0 and "foreign_tagged" in alone["shots"]["10"]
    table, _ = run("smarttags_evaluate", **arguments, foreign=str(tmp_path / "foreign"))
    assert "foreign tagged" in table and "correct+applied" in table

    with pytest.raises(CommandError, match="these are its tags: pants, t-shirt"):
        run("smarttags_evaluate", **arguments, foreign=str(tmp_path / "train"))




@pytest.fixture
def hostile_tree(example_tree, tmp_path, settings):
    """The example tree with what a shared folder can hold besides images."""
    import os

    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "secret.jpg"
    shutil.copy(next((example_tree / "hat").iterdir()), secret)
    (example_tree / "hat" / "link-out.jpg").symlink_to(secret)
    (example_tree / "hat" / "zeros.jpg").symlink_to("/dev/zero")
    os.mkfifo(example_tree / "hat" / "pipe.jpg")
    big = example_tree / "shoes" / "huge.jpg"
    big.write_bytes(b"\xff\xd8" + b"\0" * 3_000_000)
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "MAX_FILE_SIZE": 2_000_000, "AUTO_TAG": False}
    for name in ("<script>alert(1)<", '=HYPERLINK("evil")', "-rm"):
        (example_tree / name).mkdir()
        shutil.copy(next((example_tree / "shoes").iterdir()), example_tree / name / "photo.jpg")
    (example_tree / "linked-tag").symlink_to(outside, target_is_directory=True)
    return example_tree


def test_import_refuses_links_out_special_and_oversized_files_and_bad_tag_names(hostile_tree):
    out, err = run("smarttags_import_examples", "Garments", str(hostile_tree))
    tag_model = TagModel.objects.get(title="Garments")
    assert sorted(tag_model.tags.values_list("name", flat=True)) == ["hat", "shoes"]
    assert tag_model.examples.count() == 20, "every real image, nothing else"
    for refused in ("link-out.jpg: it links outside", "zeros.jpg: it links outside", "pipe.jpg: not a regular file",
                    "huge.jpg: 3,000,002 bytes, more than the 2,000,000 allowed", "linked-tag: it links outside",
                    "'<script>alert(1)<' is not a tag name", "'-rm' is not a tag name"):  # fmt: skip
        assert refused in err, (refused, err)
    assert """'=HYPERLINK("evil")' is not a tag name""" in err
    assert not get_image_model().objects.filter(title="secret").exists()


def test_evaluate_reads_the_same_trees_the_same_way(hostile_tree):
    tree = str(hostile_tree)
    out, err = run("smarttags_evaluate", train=tree, test=tree, shots="5", draws=1, json=True)
    assert "pipe.jpg: not a regular file" in err and "link-out.jpg: it links outside" in err
    assert "'<script>alert(1)<' is not a tag name" in err
    assert json.loads(out)["test_images"] == 20
