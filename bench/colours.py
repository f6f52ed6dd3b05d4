"""Colour tags on the clothing photographs: what they cost beside embedding, and how stable they are.

Every photo of ``clothing/validation`` is decoded as the pipeline decodes it (``ml.images.decode_image``
at the production decode size), then, in one run, on the same decoded images:

* timed: ``ml.colours.colour_coverage`` per photo, and the default backbone's ``embed_with_labels`` per
  batch (what tagging costs anyway), so that the ratio of the two holds whatever the machine's load;
* counted: the colour tags chosen with the production ``COLOUR_MIN_COVERAGE`` and ``COLOUR_MAX_TAGS``, how
  many photos get a colour besides black, grey and white, and which colours are given how often;
* stability: whether a mirrored copy and a half-size copy of each photo get the same colour tags.

    python bench/colours.py [--limit N] [--json]
"""

import time
from collections import Counter

from _django import clothing_photos_arguments, publish

NEUTRAL = {"black", "grey", "white"}


def main():
    args, clothing = clothing_photos_arguments(__doc__)

    from PIL import ImageOps

    from wagtail_smarttags.conf import DEFAULTS
    from wagtail_smarttags.ml.backbones import load_backbone
    from wagtail_smarttags.ml.colours import choose_colours, colour_coverage
    from wagtail_smarttags.ml.images import decode_image

    config = DEFAULTS["IMAGE_BACKBONE"]
    backbone = load_backbone(config["BACKEND"], config["OPTIONS"])
    target_size = max(DEFAULTS["DECODE_SIZE"], getattr(backbone, "input_size", 0))
    paths = [
        path
        for folder in sorted(p for p in (clothing / "validation").iterdir() if p.is_dir())
        for path in sorted(folder.glob("*.jpg"))[: args.limit]
    ]
    images = [decode_image(path, target_size=target_size, max_pixels=DEFAULTS["MAX_IMAGE_PIXELS"]) for path in paths]
    minimum, most = DEFAULTS["COLOUR_MIN_COVERAGE"], DEFAULTS["COLOUR_MAX_TAGS"]

    def chosen(image):
        return [name for name, _ in choose_colours(colour_coverage([image]), minimum, most)]

    # Both warm before timing: the backbone loaded, the colour table built (once per process, ~0.2 s).
    backbone.embed_with_labels(images[: backbone.batch_size], top_k=10)
    chosen(images[0])
    colour_seconds = embed_seconds = 0.0
    tags = []
    for start in range(0, len(images), backbone.batch_size):
        batch = images[start : start + backbone.batch_size]
        started = time.perf_counter()
        backbone.embed_with_labels(batch, top_k=10)
        embed_seconds += time.perf_counter() - started
        started = time.perf_counter()
        tags.extend(chosen(image) for image in batch)
        colour_seconds += time.perf_counter() - started

    pairs = list(zip(images, tags, strict=True))
    mirrored = sum(chosen(ImageOps.mirror(image)) == names for image, names in pairs)
    halved = sum(chosen(image.resize((image.width // 2, image.height // 2))) == names for image, names in pairs)
    counts = Counter(name for names in tags for name in names)
    count = len(images)
    results = {
        "dataset": str(clothing / "validation"),
        "backbone": backbone.id,
        "photos": count,
        "min_coverage": minimum,
        "max_tags": most,
        "colour_ms_per_photo": round(1000 * colour_seconds / count, 2),
        "embed_ms_per_photo": round(1000 * embed_seconds / count, 2),
        "colour_share_of_embedding": round(colour_seconds / embed_seconds, 4),
        "tags_per_photo": round(sum(map(len, tags)) / count, 2),
        "photos_with_a_colour_besides_neutral": round(sum(bool(set(names) - NEUTRAL) for names in tags) / count, 4),
        "same_tags_mirrored": round(mirrored / count, 4),
        "same_tags_half_size": round(halved / count, 4),
        "colour_counts": dict(counts.most_common()),
    }
    publish("colours", results, args.json, print_report)


def print_report(results):
    print(
        f"Colour tags on {results['photos']} clothing photos (coverage >= {results['min_coverage']}, "
        f"at most {results['max_tags']}; backbone {results['backbone']})"
    )
    rows = [
        ("colour coverage, ms per photo", f"{results['colour_ms_per_photo']:.2f}"),
        ("embedding with labels, ms per photo", f"{results['embed_ms_per_photo']:.2f}"),
        ("colours as a share of embedding", f"{results['colour_share_of_embedding']:.1%}"),
        ("colour tags per photo", f"{results['tags_per_photo']:.2f}"),
        ("photos with a colour besides black, grey, white", f"{results['photos_with_a_colour_besides_neutral']:.1%}"),
        ("same tags, mirrored copy", f"{results['same_tags_mirrored']:.1%}"),
        ("same tags, half-size copy", f"{results['same_tags_half_size']:.1%}"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value:>8}")
    print("  colours given: " + ", ".join(f"{name} {n}" for name, n in results["colour_counts"].items()))


if __name__ == "__main__":
    main()
