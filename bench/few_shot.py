"""Few-shot tagging quality on the clothing photographs: the default backbone against single networks.

Runs ``manage.py smarttags_evaluate`` (the production training and prediction code) with
10, 30 and 50 examples per tag drawn from ``clothing/train``, measured on
``clothing/validation``; figures are means over several random draws. As in production, training
sees the site's library, unlabelled: here all of ``clothing/train`` (never a validation image);
``--no-library`` trains on the examples alone.

    python bench/few_shot.py [--backbones default,lite0,lite1,lite2] [--draws 5] [--no-library] [--json]
"""

import argparse
import io
import json
import time
from contextlib import redirect_stdout

from _django import publish, require_dataset, setup_django

# None: the default from WAGTAIL_SMARTTAGS (the lite0 + lite1 ensemble); the others: one network each,
# on the same two framings the default gives lite0.
BACKBONES = {
    "default": None,
    **{
        variant: {"BACKEND": "efficientnet_lite", "OPTIONS": {"variant": variant, "views": ["crop", "pad"]}}
        for variant in ("lite0", "lite1", "lite2")
    },
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backbones", default="default,lite0,lite1,lite2", help=f"Among {', '.join(BACKBONES)}.")
    parser.add_argument("--shots", default="10,30,50")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--no-library", dest="library", action="store_false", help="Train on the examples alone.")
    parser.add_argument("--json", action="store_true", help="Print the JSON results instead of the table.")
    args = parser.parse_args()
    clothing = require_dataset("clothing")
    setup_django()
    from django.core.management import call_command

    library = str(clothing / "train") if args.library else None
    results = {"dataset": str(clothing), "draws": args.draws, "library": library, "backbones": {}}
    for name in args.backbones.split(","):
        started = time.perf_counter()
        output = io.StringIO()
        with redirect_stdout(output):
            call_command(
                "smarttags_evaluate",
                train=str(clothing / "train"),
                test=str(clothing / "validation"),
                library=library,
                shots=args.shots,
                draws=args.draws,
                json=True,
                backbone=json.dumps(BACKBONES[name]) if BACKBONES[name] else None,
                stdout=output,
            )
        evaluation = json.loads(output.getvalue())
        evaluation["seconds"] = round(time.perf_counter() - started, 1)
        results["backbones"][name] = evaluation
    publish("few_shot", results, args.json, lambda results: print_table(results, clothing, args.draws))


def print_table(results, clothing, draws):
    library = f"library {results['library']}" if results["library"] else "no library"
    print(f"Few-shot quality on {clothing} ({draws} draws; mean ± std; {library})")
    print(f"{'backbone':<8} {'shots':>5} {'top-1':>14} {'macro-F1':>14} {'rejected':>14} {'time':>7}")
    for name, evaluation in results["backbones"].items():
        for shots, summary in evaluation["shots"].items():
            print(
                f"{name:<8} {shots:>5} {_cell(summary['top1']):>14} {_cell(summary['macro_f1']):>14} "
                f"{_cell(summary['rejection_rate']):>14} {evaluation['seconds']:>6.0f}s"
            )


def _cell(stats):
    return f"{stats['mean']:.1%} ±{stats['std']:.1%}"


if __name__ == "__main__":
    main()
