"""Tags that leave other images alone: 5-tag clothing models against photos of the other 5 garments.

For each of several random splits of the ten garments into five tags and five foreign classes, runs
``manage.py smarttags_evaluate`` (the production training and prediction code) with examples drawn
from ``clothing/train`` for the five tags, measured on ``clothing/validation``: the tags' photos for
top-1 and "correct tag applied", the foreign garments' photos for the share that gets any tag.
Each split is evaluated twice: without a library (training sees only the examples) and with all of
``clothing/train`` as the site's library (unlabelled; never a test image). Figures are means over
splits and draws.

    python bench/open_set.py [--splits 6] [--draws 3] [--shots 10,30,50] [--json]
"""

import argparse
import io
import json
import random
import shutil
import tempfile
import time
from contextlib import redirect_stdout
from pathlib import Path

from _django import publish, require_dataset, setup_django

MEASURES = ("top1", "correct_applied", "foreign_tagged", "rejection_rate")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--splits", type=int, default=6, help="Random splits of the garments into 5 + 5.")
    parser.add_argument("--draws", type=int, default=3, help="Draws of the examples per split and shot count.")
    parser.add_argument("--shots", default="10,30,50")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="Print the JSON results instead of the table.")
    args = parser.parse_args()
    clothing = require_dataset("clothing")
    setup_django()
    from django.core.management import call_command

    garments = sorted(path.name for path in (clothing / "train").iterdir() if path.is_dir())
    rng = random.Random(args.seed)
    splits = [sorted(rng.sample(garments, len(garments) // 2)) for _ in range(args.splits)]
    results = {"dataset": str(clothing), "draws": args.draws, "splits": [], "modes": {}}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="smarttags-open-set-") as scratch:
        for number, tags in enumerate(splits):
            trees = _split_trees(clothing, tags, [g for g in garments if g not in tags], Path(scratch) / str(number))
            split = {"tags": tags, "modes": {}}
            for mode, library in (("examples only", None), ("with library", clothing / "train")):
                output = io.StringIO()
                with redirect_stdout(output):
                    call_command(
                        "smarttags_evaluate", train=str(trees["train"]), test=str(trees["test"]),
                        foreign=str(trees["foreign"]), library=str(library) if library else None,
                        shots=args.shots, draws=args.draws, seed=args.seed + 100 * number, json=True, stdout=output,
                    )  # fmt: skip
                split["modes"][mode] = json.loads(output.getvalue())["shots"]
            results["splits"].append(split)
    results["seconds"] = round(time.perf_counter() - started, 1)
    for mode in ("examples only", "with library"):
        results["modes"][mode] = {
            shots: {
                measure: _mean([split["modes"][mode][shots][measure]["mean"] for split in results["splits"]])
                for measure in MEASURES
            }
            | {"foreign_tagged_worst_split": max(s["modes"][mode][shots]["foreign_tagged"]["mean"]
                                                 for s in results["splits"])}  # fmt: skip
            for shots in results["splits"][0]["modes"][mode]
        }
    publish("open_set", results, args.json, print_table)


def _split_trees(clothing, tags, foreign, root):
    """Folder-per-class copies: ``train`` and ``test`` of the tags, ``foreign`` of the other garments."""
    trees = {"train": root / "train", "test": root / "test", "foreign": root / "foreign"}
    for name, source, classes in (("train", "train", tags), ("test", "validation", tags),
                                  ("foreign", "validation", foreign)):  # fmt: skip
        for garment in classes:
            shutil.copytree(clothing / source / garment, trees[name] / garment)
    return trees


def _mean(values):
    return sum(values) / len(values)


def print_table(results):
    print(
        f"Open-set tagging on {results['dataset']}: {len(results['splits'])} splits of 5 tags + 5 foreign garments, "
        f"{results['draws']} draws each ({results['seconds']:.0f} s)"
    )
    print(f"{'training sees':<14} {'shots':>5} {'top-1':>7} {'correct+applied':>16} {'foreign tagged':>15} "
          f"{'(worst split)':>14}")  # fmt: skip
    for mode, by_shots in results["modes"].items():
        for shots, figures in by_shots.items():
            print(
                f"{mode:<14} {shots:>5} {figures['top1']:>7.1%} {figures['correct_applied']:>16.1%} "
                f"{figures['foreign_tagged']:>15.1%} {figures['foreign_tagged_worst_split']:>14.1%}"
            )
    print("\nSplits (tags):")
    for split in results["splits"]:
        print("  " + ", ".join(split["tags"]))


if __name__ == "__main__":
    main()
