import hashlib
import json as json_module
import random
from pathlib import Path

import numpy as np
from django.core.management.base import BaseCommand, CommandError
from django.test import override_settings

from wagtail_smarttags.conf import get_settings
from wagtail_smarttags.ml.classifiers import train_classifier
from wagtail_smarttags.ml.errors import UnreadableAssetError
from wagtail_smarttags.pipeline.kinds.images import decode_for_backbone
from wagtail_smarttags.pipeline.loading import get_backbone
from wagtail_smarttags.training.service import classifier_settings

from ._trees import image_files, library_files, read_bounded, tag_folders

# Embeddings already computed in this process, by backbone and file content: a benchmark that evaluates
# several splits of one dataset (or a library holding the training images) embeds each photograph once.
_EMBEDDINGS: dict = {}


class Command(BaseCommand):
    help = (
        "Measure few-shot tagging quality on folder-per-tag trees with the production training and prediction "
        "code: top-1 accuracy, macro-F1, per-tag precision/recall and the rejection rate, averaged over draws; "
        "with --foreign, the share of images of other classes that get a tag anyway."
    )

    def add_arguments(self, parser):
        parser.add_argument("--train", required=True, help="Folder with one sub-folder of example images per tag.")
        parser.add_argument("--test", required=True, help="Folder with one sub-folder of test images per tag.")
        parser.add_argument("--shots", default="10,30,50", help="Examples per tag to train with, comma-separated.")
        parser.add_argument("--draws", type=int, default=5, help="Random draws of the examples per shot count.")
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument(
            "--foreign",
            help="Folder with one sub-folder per class the model does not know: the share of these images that "
            "get any tag applied is reported, and the share of test images that get their correct tag applied.",
        )
        parser.add_argument(
            "--library",
            help="Folder of unlabelled images (at any depth) that stands for the site's library, shown to the "
            "classifier as training does with the site's own library. Never the test or foreign images.",
        )
        parser.add_argument("--json", action="store_true", help="Print the results as JSON instead of a table.")
        parser.add_argument(
            "--backbone",
            default=None,
            help='JSON replacing IMAGE_BACKBONE for this run, e.g. \'{"BACKEND": "efficientnet_lite", '
            '"OPTIONS": {"variant": "lite1"}}\'.',
        )

    def handle(self, *args, backbone=None, **options):
        if not backbone:
            return self.evaluate(**options)
        with override_settings(WAGTAIL_SMARTTAGS={**get_settings(), "IMAGE_BACKBONE": json_module.loads(backbone)}):
            return self.evaluate(**options)

    def evaluate(self, train, test, shots, draws, seed, foreign=None, library=None, json=False, **options):
        shot_counts = [int(value) for value in shots.split(",") if value.strip()]
        backbone = get_backbone()
        train_set = self._embed_tree(Path(train), backbone)
        test_set = self._embed_tree(Path(test), backbone)
        tags = sorted(train_set)
        unknown = sorted(set(test_set) - set(tags))
        if unknown:
            raise CommandError(f"{test} has classes the training tree lacks: {', '.join(unknown)}.")
        foreign_set = self._embed_tree(Path(foreign), backbone) if foreign else {}
        overlap = sorted(set(foreign_set) & set(tags))
        if overlap:
            raise CommandError(
                f"Foreign classes must be unknown to the model; these are its tags: {', '.join(overlap)}."
            )
        background = self._embed_library(Path(library), backbone) if library else None
        test_labels = [tag for tag in tags for _ in test_set.get(tag, [])]
        foreign_labels = [name for name in sorted(foreign_set) for _ in foreign_set[name]]
        vectors = np.stack(
            [vector for tag in tags for vector in test_set.get(tag, [])]
            + [vector for name in sorted(foreign_set) for vector in foreign_set[name]]
        )
        results = {
            "backbone": backbone.id,
            "train": str(train),
            "test": str(test),
            "foreign": str(foreign) if foreign else None,
            "library": str(library) if library else None,
            "library_images": 0 if background is None else len(background),
            "test_images": len(test_labels),
            "foreign_images": len(foreign_labels),
            "draws": draws,
            "shots": {},
        }
        for shot_count in shot_counts:
            runs = [
                self._run(train_set, tags, shot_count, vectors, background, random.Random(seed + draw))
                for draw in range(draws)
            ]
            results["shots"][str(shot_count)] = _summarise(runs, tags, test_labels, foreign_labels)
        if json:
            self.stdout.write(_dumps(results))
        else:
            self._print_table(results, tags)
        return None

    def _embed_tree(self, root, backbone):
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder.")
        return {
            name: self._embed_files(image_files(folder, root, self.stderr.write), backbone)
            for name, folder in tag_folders(root, self.stderr.write)
        }

    def _embed_library(self, root, backbone):
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder.")
        vectors = self._embed_files(library_files(root, self.stderr.write), backbone)
        return np.stack(vectors) if vectors else None

    def _embed_files(self, paths, backbone):
        keys, missing, images = [], [], []
        for path in paths:
            try:
                key = (backbone.id, hashlib.sha256(read_bounded(path)).hexdigest())
                if key not in _EMBEDDINGS and key not in missing:
                    images.append(decode_for_backbone(path, backbone))
                    missing.append(key)
            except (OSError, ValueError, UnreadableAssetError) as error:
                self.stderr.write(f"Skipping {path}: {error}")
                continue
            keys.append(key)
        if images:
            _EMBEDDINGS.update(zip(missing, backbone.embed(images)))
        return [_EMBEDDINGS[key] for key in keys]

    def _run(self, train_set, tags, shot_count, vectors, background, rng):
        embeddings, labels = [], []
        for tag in tags:
            chosen = rng.sample(range(len(train_set[tag])), min(shot_count, len(train_set[tag])))
            embeddings += [train_set[tag][index] for index in chosen]
            labels += [tag] * len(chosen)
        classifier, _ = train_classifier(np.stack(embeddings), labels, **classifier_settings(), background=background)
        return [(prediction.label, prediction.applied) for prediction in classifier.predict(vectors)]

    def _print_table(self, results, tags):
        self.stdout.write(
            f"Backbone {results['backbone']}, {results['test_images']} test images, {results['draws']} draws"
        )
        if results["foreign_images"]:
            self.stdout.write(
                f"{results['foreign_images']} foreign images; library of {results['library_images']} images"
            )
        columns = ["top1", "macro_f1", "rejection_rate"]
        if results["foreign_images"]:
            columns += ["correct_applied", "foreign_tagged"]
        headings = {"top1": "top-1", "macro_f1": "macro-F1", "rejection_rate": "rejected",
                    "correct_applied": "correct+applied", "foreign_tagged": "foreign tagged"}  # fmt: skip
        self.stdout.write(f"{'shots':>5} " + " ".join(f"{headings[column]:>15}" for column in columns))
        for shot_count, summary in results["shots"].items():
            self.stdout.write(f"{shot_count:>5} " + " ".join(f"{_mean_std(summary[c]):>15}" for c in columns))
        for shot_count, summary in results["shots"].items():
            self.stdout.write(f"\nPer tag at {shot_count} shots: precision / recall")
            for tag in tags:
                per_tag = summary["per_tag"][tag]
                self.stdout.write(f"  {tag:<20} {per_tag['precision']:.1%} / {per_tag['recall']:.1%}")


def _summarise(runs, tags, test_labels, foreign_labels):
    """Means over the draws. In-model figures count the test images; ``foreign_tagged`` counts the foreign ones,
    ``correct_applied`` the test images whose true tag is applied (top-1 counts the best tag, applied or not)."""
    top1, macro_f1, rejection, correct_applied, foreign_tagged = [], [], [], [], []
    per_tag = {tag: {"precision": [], "recall": []} for tag in tags}
    per_foreign = {name: [] for name in sorted(set(foreign_labels))}
    for outcomes in runs:
        run = [(truth, label, applied) for truth, (label, applied) in zip(test_labels, outcomes)]
        others = outcomes[len(test_labels) :]
        top1.append(sum(truth == label for truth, label, _ in run) / len(run))
        rejection.append(sum(not applied for _, _, applied in run) / len(run))
        correct_applied.append(sum(applied and truth == label for truth, label, applied in run) / len(run))
        if others:
            foreign_tagged.append(sum(applied for _, applied in others) / len(others))
            for name in per_foreign:
                own = [applied for truth, (_, applied) in zip(foreign_labels, others) if truth == name]
                per_foreign[name].append(sum(own) / len(own))
        # Foreign images given a tag count against its precision.
        run += [(truth, label, applied) for truth, (label, applied) in zip(foreign_labels, others)]
        f1s = []
        for tag in tags:
            true_positive = sum(applied and label == tag and truth == tag for truth, label, applied in run)
            predicted = sum(applied and label == tag for _, label, applied in run)
            actual = sum(truth == tag for truth, _, _ in run)
            precision = true_positive / predicted if predicted else 0.0
            recall = true_positive / actual if actual else 0.0
            per_tag[tag]["precision"].append(precision)
            per_tag[tag]["recall"].append(recall)
            f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
        macro_f1.append(sum(f1s) / len(f1s))
    return {
        "top1": _stats(top1),
        "macro_f1": _stats(macro_f1),
        "rejection_rate": _stats(rejection),
        "correct_applied": _stats(correct_applied),
        **({"foreign_tagged": _stats(foreign_tagged)} if foreign_tagged else {}),
        "foreign_tagged_per_class": {name: float(np.mean(values)) for name, values in per_foreign.items()},
        "per_tag": {
            tag: {metric: float(np.mean(values)) for metric, values in metrics.items()}
            for tag, metrics in per_tag.items()
        },
    }


def _stats(values):
    return {"mean": float(np.mean(values)), "std": float(np.std(values)), "runs": [float(v) for v in values]}


def _mean_std(stats):
    return f"{stats['mean']:.1%} ±{stats['std']:.1%}"


def _dumps(value):
    return json_module.dumps(value, indent=2)
