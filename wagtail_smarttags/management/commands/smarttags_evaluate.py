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

from ._trees import image_files, tag_folders


class Command(BaseCommand):
    help = (
        "Measure few-shot tagging quality on folder-per-tag trees with the production training and prediction "
        "code: top-1 accuracy, macro-F1, per-tag precision/recall and the rejection rate, averaged over draws."
    )

    def add_arguments(self, parser):
        parser.add_argument("--train", required=True, help="Folder with one sub-folder of example images per tag.")
        parser.add_argument("--test", required=True, help="Folder with one sub-folder of test images per tag.")
        parser.add_argument("--shots", default="10,30,50", help="Examples per tag to train with, comma-separated.")
        parser.add_argument("--draws", type=int, default=5, help="Random draws of the examples per shot count.")
        parser.add_argument("--seed", type=int, default=0)
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

    def evaluate(self, train, test, shots, draws, seed, json=False, verbosity=1, **options):
        shot_counts = [int(value) for value in shots.split(",") if value.strip()]
        backbone = get_backbone()
        train_set = self._embed_tree(Path(train), backbone)
        test_set = self._embed_tree(Path(test), backbone)
        tags = sorted(train_set)
        test_vectors = np.stack([vector for tag in tags for vector in test_set.get(tag, [])])
        test_labels = [tag for tag in tags for _ in test_set.get(tag, [])]
        results = {
            "backbone": backbone.id,
            "train": str(train),
            "test": str(test),
            "test_images": len(test_labels),
            "draws": draws,
            "shots": {},
        }
        for shot_count in shot_counts:
            runs = [
                self._run(train_set, tags, shot_count, test_vectors, test_labels, random.Random(seed + draw))
                for draw in range(draws)
            ]
            results["shots"][str(shot_count)] = _summarise(runs, tags)
        if json:
            self.stdout.write(_dumps(results))
        else:
            self._print_table(results, tags)
        return None

    def _embed_tree(self, root, backbone):
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder.")
        vectors = {}
        for name, tag_folder in tag_folders(root, self.stderr.write):
            images = []
            for path in image_files(tag_folder, root, self.stderr.write):
                try:
                    images.append(decode_for_backbone(path, backbone))
                except (OSError, ValueError, UnreadableAssetError) as error:
                    self.stderr.write(f"Skipping {path}: {error}")
            vectors[name] = list(backbone.embed(images))
        return vectors

    def _run(self, train_set, tags, shot_count, test_vectors, test_labels, rng):
        embeddings, labels = [], []
        for tag in tags:
            chosen = rng.sample(range(len(train_set[tag])), min(shot_count, len(train_set[tag])))
            embeddings += [train_set[tag][index] for index in chosen]
            labels += [tag] * len(chosen)
        classifier, _ = train_classifier(np.stack(embeddings), labels, **classifier_settings())
        predictions = classifier.predict(test_vectors)
        return [(truth, prediction.label, prediction.applied) for truth, prediction in zip(test_labels, predictions)]

    def _print_table(self, results, tags):
        self.stdout.write(
            f"Backbone {results['backbone']}, {results['test_images']} test images, {results['draws']} draws"
        )
        self.stdout.write(f"{'shots':>5} {'top-1':>13} {'macro-F1':>13} {'rejected':>13}")
        for shot_count, summary in results["shots"].items():
            self.stdout.write(
                f"{shot_count:>5} {_mean_std(summary['top1']):>13} {_mean_std(summary['macro_f1']):>13} "
                f"{_mean_std(summary['rejection_rate']):>13}"
            )
        for shot_count, summary in results["shots"].items():
            self.stdout.write(f"\nPer tag at {shot_count} shots: precision / recall")
            for tag in tags:
                per_tag = summary["per_tag"][tag]
                self.stdout.write(f"  {tag:<20} {per_tag['precision']:.1%} / {per_tag['recall']:.1%}")


def _summarise(runs, tags):
    top1, macro_f1, rejection = [], [], []
    per_tag = {tag: {"precision": [], "recall": []} for tag in tags}
    for run in runs:
        top1.append(sum(truth == label for truth, label, _ in run) / len(run))
        rejection.append(sum(not applied for _, _, applied in run) / len(run))
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
