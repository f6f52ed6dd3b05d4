"""Learning from moderation: how much an editor's corrections improve the next version of a tag model.

For several random splits of the ten clothing garments into five tags and five foreign classes, and
several draws of the examples from ``clothing/train``: version 1 is trained on the examples; the rest
of ``clothing/train`` (all ten garments, shuffled) is the site's library, uploaded and tagged by
version 1. An editor then looks at the first N library images as they were tagged: a wrong tag (a
foreign garment, or another of the tags) is removed, a right one promoted, an untagged image left as
it is. Version 2 learns from those decisions as production does (``training.decisions``: promoted
images become examples, removed ones negatives). Both versions are measured on
``clothing/validation``: the tags' photos for "correct tag applied", the foreign garments' for the
share that gets any tag. With ``--library`` the library is also the training background, as on a
site with ``TRAINING_LIBRARY_SIZE`` (the default); without, only the decisions differ.

    python bench/moderation.py [--splits 6] [--draws 3] [--shots 10,30] [--moderated 100,300] [--json]
"""

import argparse
import random
import time

import numpy as np
from _django import publish, require_dataset, setup_django


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--splits", type=int, default=6, help="Random splits of the garments into 5 + 5.")
    parser.add_argument("--draws", type=int, default=3, help="Draws of the examples per split and shot count.")
    parser.add_argument("--shots", default="10,30")
    parser.add_argument("--moderated", default="100,300", help="How many library images the editor looks at.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="Print the JSON results instead of the table.")
    args = parser.parse_args()
    clothing = require_dataset("clothing")
    setup_django()
    from wagtail_smarttags.pipeline.loading import get_backbone

    backbone = get_backbone()
    started = time.perf_counter()
    train, validation = _embed(clothing / "train", backbone), _embed(clothing / "validation", backbone)
    embedding_seconds = time.perf_counter() - started
    garments = sorted(train)
    shots_list = [int(value) for value in args.shots.split(",")]
    moderated_list = [int(value) for value in args.moderated.split(",")]
    rng = random.Random(args.seed)
    splits = [sorted(rng.sample(garments, len(garments) // 2)) for _ in range(args.splits)]
    runs = []
    for number, tags in enumerate(splits):
        for shots in shots_list:
            for draw in range(args.draws):
                draw_rng = random.Random(f"{args.seed}:{number}:{shots}:{draw}")
                for background in (False, True):
                    runs += _run(train, validation, tags, shots, moderated_list, background, draw_rng)
    results = {
        "dataset": str(clothing),
        "backbone": backbone.id,
        "splits": splits,
        "draws": args.draws,
        "embedding_seconds": round(embedding_seconds, 1),
        "seconds": round(time.perf_counter() - started, 1),
        "figures": _summarise(runs),
    }
    publish("moderation", results, args.json, print_table)


def _embed(root, backbone):
    """``{garment: (N, D) embeddings}`` of a folder-per-garment tree, in file-name order."""
    from wagtail_smarttags.pipeline.kinds.images import decode_for_backbone

    embedded = {}
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        images = [decode_for_backbone(path, backbone) for path in sorted(folder.iterdir()) if path.is_file()]
        embedded[folder.name] = np.asarray(backbone.embed(images), dtype=np.float32)
    return embedded


def _run(train, validation, tags, shots, moderated_list, with_background, rng):
    from wagtail_smarttags.ml.classifiers import train_classifier
    from wagtail_smarttags.training.service import classifier_settings

    examples, labels, library, truth = [], [], [], []
    for garment, vectors in train.items():
        order = list(range(len(vectors)))
        rng.shuffle(order)
        chosen = order[:shots] if garment in tags else []
        examples += [vectors[index] for index in chosen]
        labels += [garment] * len(chosen)
        library += [vectors[index] for index in order if index not in chosen]
        truth += [garment] * (len(order) - len(chosen))
    shuffled = list(range(len(library)))
    rng.shuffle(shuffled)  # the order the library was uploaded in
    library, truth = np.stack([library[index] for index in shuffled]), [truth[index] for index in shuffled]
    examples = np.stack(examples)
    settings = classifier_settings()
    background = library if with_background else None
    first, _ = train_classifier(examples, labels, **settings, background=background)
    given = [(p.label if p.applied else None) for p in first.predict(library)]
    mode = "with library" if with_background else "examples only"
    rows = [{"mode": mode, "shots": shots, "moderated": 0, **_measure(first, validation, tags)}]
    for moderated in moderated_list:
        promoted = [index for index in range(moderated) if given[index] is not None and given[index] == truth[index]]
        removed = [index for index in range(moderated) if given[index] is not None and given[index] != truth[index]]
        learnt, _ = train_classifier(
            np.concatenate([examples, library[promoted]]),
            labels + [given[index] for index in promoted],
            **settings,
            background=background,
            negatives=library[removed] if removed else None,
        )
        rows.append({
            "mode": mode, "shots": shots, "moderated": moderated, "promoted": len(promoted), "removed": len(removed),
            **_measure(learnt, validation, tags),
        })  # fmt: skip
    return rows


def _measure(classifier, validation, tags):
    in_model = [(p, tag) for tag in tags for p in classifier.predict(validation[tag])]
    foreign = [p for name, vectors in validation.items() if name not in tags for p in classifier.predict(vectors)]
    return {
        "correct_applied": float(np.mean([p.applied and p.label == tag for p, tag in in_model])),
        "foreign_tagged": float(np.mean([p.applied for p in foreign])),
    }


def _summarise(runs):
    """Means over splits and draws, per (mode, shots, moderated)."""
    groups = {}
    for run in runs:
        groups.setdefault((run["mode"], run["shots"], run["moderated"]), []).append(run)
    return [
        {
            "mode": mode, "shots": shots, "moderated": moderated,
            **{key: float(np.mean([run[key] for run in group]))
               for key in ("correct_applied", "foreign_tagged", "promoted", "removed") if key in group[0]},
        }
        for (mode, shots, moderated), group in sorted(groups.items())
    ]  # fmt: skip


def print_table(results):
    print(
        f"Learning from moderation on {results['dataset']} ({results['backbone']}): {len(results['splits'])} splits "
        f"of 5 tags + 5 foreign garments, {results['draws']} draws ({results['seconds']:.0f} s, of which "
        f"{results['embedding_seconds']:.0f} s embedding)"
    )
    print(f"{'training sees':<14} {'shots':>5} {'moderated':>9} {'promoted':>8} {'removed':>7} "
          f"{'correct+applied':>16} {'foreign tagged':>15}")  # fmt: skip
    for row in results["figures"]:
        print(
            f"{row['mode']:<14} {row['shots']:>5} {row['moderated']:>9} {row.get('promoted', 0):>8.0f} "
            f"{row.get('removed', 0):>7.0f} {row['correct_applied']:>16.1%} {row['foreign_tagged']:>15.1%}"
        )


if __name__ == "__main__":
    main()
