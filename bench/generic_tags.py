"""Generic tags on the clothing photographs: how often the untrained backbone's ImageNet labels are right.

Every photo of ``clothing/validation`` goes through the production path without Django's
database: ``ml.images.decode_image`` at the production decode size, the default backbone's
``embed_with_labels`` (its ImageNet labels, from EfficientNet-Lite0 on the centre crop), and
``ml.labels.choose_generic_labels`` with the production ``GENERIC_MIN_CONFIDENCE`` and
``GENERIC_MAX_TAGS``.

A generic tag is counted right when it is in ``SENSIBLE[class]`` below: an ImageNet label that
names a garment of the photo's class. ImageNet has no "dress", "shirt", "hat", "jacket" or
"shoe" class, only kinds of them, so any kind counts (a beanie tagged "cowboy hat" is counted
right: this flatters the hat, shoe and outwear figures a little), but a neighbouring garment
does not (a long-sleeved top tagged "T-shirt", a dress tagged "overskirt"); those are listed in
``RELATED`` and reported separately as "right or related". Nothing in ImageNet names a
buttoned shirt, so shirts cannot be right. Scenes and materials ("shoe store", "velvet
fabric") are wrong.

Reported, for all photos and per class:

* coverage: the share of photos that get at least one generic tag;
* top tag right: among photos with a generic tag, the share whose best one is right;
* all tags right: the share of every applied generic tag that is right;
* top-1 right: the share of photos whose best ImageNet label is right, whatever its probability;

then coverage and top-tag precision at other thresholds, and the commonest wrong best labels.

    python bench/generic_tags.py [--limit N] [--json]
"""

import sys
import time
from collections import Counter

from _django import clothing_photos_arguments, publish

CLASSES = ["dress", "hat", "longsleeve", "outwear", "pants", "shirt", "shoes", "shorts", "skirt", "t-shirt"]

# ImageNet labels (exactly as in wagtail_smarttags/ml/backbones/imagenet_labels.txt) that name a garment of the class.
SENSIBLE = {
    "dress": {"gown", "abaya"},
    "hat": {
        "cowboy hat",
        "sombrero",
        "poke bonnet",
        "military hat (bearskin or shako)",
        "graduation cap",
        "shower cap",
        "swimming cap",
    },
    "longsleeve": {"sweatshirt", "cardigan"},
    "outwear": {"trench coat", "fur coat", "lab coat", "poncho", "cloak"},
    "pants": {"jeans"},
    "shirt": set(),
    "shoes": {"sneaker", "sandal", "cowboy boot", "clogs", "slip-on shoe"},
    "shorts": {"swim trunks / shorts"},
    "skirt": {"miniskirt", "hoop skirt", "overskirt", "sarong"},
    "t-shirt": {"T-shirt"},
}

# Neighbouring garments: right for some photos of the class at best (not counted as right).
RELATED = {
    "dress": {"hoop skirt", "overskirt", "miniskirt", "sarong", "kimono"},
    "hat": {"balaclava ski mask", "crash helmet", "football helmet"},
    "longsleeve": {"T-shirt"},
    "outwear": {"suit", "sweatshirt", "cardigan", "bulletproof vest", "military uniform", "kimono", "abaya"},
    "pants": {"tights", "pajamas", "suit"},
    "shirt": {"T-shirt"},
    "shoes": set(),
    "shorts": {"jeans"},
    "skirt": {"gown"},
    "t-shirt": {"sweatshirt"},
}

THRESHOLDS = [0.1, 0.2, 0.3, 0.4, 0.5]


def main():
    args, clothing = clothing_photos_arguments(__doc__)

    # No database: wagtail_smarttags.conf only reads Django's settings when get_setting() is called.
    from wagtail_smarttags.conf import DEFAULTS
    from wagtail_smarttags.ml.backbones import load_backbone
    from wagtail_smarttags.ml.backbones.efficientnet_lite import imagenet_labels
    from wagtail_smarttags.ml.images import decode_image

    known = set(imagenet_labels())
    unknown = {label for sets in (SENSIBLE, RELATED) for labels in sets.values() for label in labels} - known
    if unknown:
        sys.exit(f"Not ImageNet labels: {sorted(unknown)}")

    config = DEFAULTS["IMAGE_BACKBONE"]
    backbone = load_backbone(config["BACKEND"], config["OPTIONS"])
    target_size = max(DEFAULTS["DECODE_SIZE"], getattr(backbone, "input_size", 0))
    photos = [
        (name, path)
        for name in CLASSES
        for path in sorted((clothing / "validation" / name).glob("*.jpg"))[: args.limit]
    ]
    started = time.perf_counter()
    rows = []
    for start in range(0, len(photos), backbone.batch_size):
        chunk = photos[start : start + backbone.batch_size]
        images = [
            decode_image(path, target_size=target_size, max_pixels=DEFAULTS["MAX_IMAGE_PIXELS"]) for _, path in chunk
        ]
        _, labels = backbone.embed_with_labels(images, top_k=10)
        rows.extend((name, path.name, image_labels) for (name, path), image_labels in zip(chunk, labels))
    seconds = time.perf_counter() - started

    threshold, max_tags = DEFAULTS["GENERIC_MIN_CONFIDENCE"], DEFAULTS["GENERIC_MAX_TAGS"]
    results = {
        "dataset": str(clothing / "validation"),
        "backbone": backbone.id,
        "photos": len(rows),
        "seconds": round(seconds, 1),
        "min_confidence": threshold,
        "max_tags": max_tags,
        "sensible": {name: sorted(labels) for name, labels in SENSIBLE.items()},
        "related": {name: sorted(labels) for name, labels in RELATED.items()},
        "overall": evaluate(rows, threshold, max_tags),
        "classes": {name: evaluate([row for row in rows if row[0] == name], threshold, max_tags) for name in CLASSES},
        "sweep": {str(value): evaluate(rows, value, max_tags) for value in THRESHOLDS},
        "wrong_top1": wrong_top_labels(rows, threshold, max_tags),
        "label_counts": label_counts(rows, threshold, max_tags, ["shoe store", "velvet fabric", "sleeping bag"]),
        "images": [
            {"class": name, "file": file, "labels": [[label, round(p, 4)] for label, p in labels[:3]]}
            for name, file, labels in rows
        ],
    }
    publish("generic_tags", results, args.json, print_report)


def choose(labels, threshold, max_tags):
    from wagtail_smarttags.ml.labels import choose_generic_labels

    return [label for label, _ in choose_generic_labels(rows=[labels], min_confidence=threshold, max_labels=max_tags)]


def evaluate(rows, threshold, max_tags):
    covered = top_right = top_related = tags = tags_right = top1_right = top1_related = 0
    for name, _, labels in rows:
        chosen = choose(labels, threshold, max_tags)
        best = labels[0][0]
        top1_right += best in SENSIBLE[name]
        top1_related += best in SENSIBLE[name] | RELATED[name]
        if chosen:
            covered += 1
            top_right += chosen[0] in SENSIBLE[name]
            top_related += chosen[0] in SENSIBLE[name] | RELATED[name]
        tags += len(chosen)
        tags_right += sum(label in SENSIBLE[name] for label in chosen)
    count = len(rows)
    return {
        "photos": count,
        "tagged": covered,
        "coverage": covered / count if count else None,
        "top_tag_right": top_right / covered if covered else None,
        "top_tag_right_or_related": top_related / covered if covered else None,
        "tags": tags,
        "tags_per_tagged_photo": tags / covered if covered else None,
        "all_tags_right": tags_right / tags if tags else None,
        "top1_right": top1_right / count if count else None,
        "top1_right_or_related": top1_related / count if count else None,
    }


def wrong_top_labels(rows, threshold, max_tags):
    """Per class: the commonest wrong best labels, how often each, and how often it became a generic tag."""
    wrong = {}
    for name in CLASSES:
        counts, applied = Counter(), Counter()
        for row_name, _, labels in rows:
            best = labels[0][0]
            if row_name == name and best not in SENSIBLE[name]:
                counts[best] += 1
                applied[best] += best in choose(labels, threshold, max_tags)
        wrong[name] = [{"label": label, "photos": n, "applied": applied[label]} for label, n in counts.most_common(3)]
    return wrong


def label_counts(rows, threshold, max_tags, watched):
    """How often each watched label is a photo's best label and how often it is applied as a generic tag."""
    counts = {}
    for label in watched:
        top1 = Counter(name for name, _, labels in rows if labels[0][0] == label)
        applied = Counter(name for name, _, labels in rows if label in choose(labels, threshold, max_tags))
        counts[label] = {"top1": dict(top1), "applied": dict(applied)}
    return counts


def print_report(results):
    print(
        f"Generic tags on {results['photos']} clothing photos ({results['backbone']}; "
        f"min confidence {results['min_confidence']}, at most {results['max_tags']} tags; {results['seconds']:.0f}s)"
    )
    header = (
        f"{'class':<11} {'photos':>6} {'coverage':>9} {'top tag right':>14} {'+related':>9} "
        f"{'all tags right':>15} {'top-1 right':>12} {'+related':>9}"
    )
    print(header)
    print("-" * len(header))
    for name, summary in [("all", results["overall"]), *results["classes"].items()]:
        print(
            f"{name:<11} {summary['photos']:>6} {_pct(summary['coverage']):>9} {_pct(summary['top_tag_right']):>14} "
            f"{_pct(summary['top_tag_right_or_related']):>9} {_pct(summary['all_tags_right']):>15} "
            f"{_pct(summary['top1_right']):>12} {_pct(summary['top1_right_or_related']):>9}"
        )
    print()
    print("Threshold sweep (all photos)")
    header = f"{'min confidence':>14} {'coverage':>9} {'top tag right':>14} {'+related':>9} {'tags/photo':>11}"
    print(header)
    print("-" * len(header))
    for value, summary in results["sweep"].items():
        default = " (default)" if float(value) == results["min_confidence"] else ""
        tags_per_photo = summary["tags"] / summary["photos"]
        print(
            f"{value:>14} {_pct(summary['coverage']):>9} {_pct(summary['top_tag_right']):>14} "
            f"{_pct(summary['top_tag_right_or_related']):>9} {tags_per_photo:>11.2f}{default}"
        )
    print()
    print("Commonest wrong best labels per class (photos; of which applied as a generic tag at the default threshold)")
    for name, wrong in results["wrong_top1"].items():
        listed = ", ".join(f"{item['label']} {item['photos']} ({item['applied']})" for item in wrong)
        print(f"{name:<11} {listed or '-'}")
    print()
    print("Watched labels: best label of (photos per class) / applied as a generic tag to (photos per class)")
    for label, counts in results["label_counts"].items():
        print(f"{label:<14} best: {_counts(counts['top1'])} / applied: {_counts(counts['applied'])}")


def _pct(value):
    return "-" if value is None else f"{value:.1%}"


def _counts(counts):
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items(), key=lambda item: -item[1])) or "none"


if __name__ == "__main__":
    main()
