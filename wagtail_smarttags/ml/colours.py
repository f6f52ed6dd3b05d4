"""Colour tags: the dominant colours of an image, or of a video's frames, named from a fixed palette.

Each pixel of a small copy of the image is given the palette name whose anchor is nearest in CIELAB
(a name may have several anchors: "grey" spans light and dark greys), and a name's *coverage* is the
share of pixels it got, averaged over a video's frames. The palette is fixed and documented
(docs/videos-and-generic-tags.md) so that a colour's name means the same on every site and in every
release; names are plain English words, as a taxonomy would spell them.

No Django here: the pipeline (``pipeline.colours``) chooses and writes the tags.
"""

import numpy as np

#: ``{name: [sRGB anchors]}``. Anchors are typical sRGB values of what English speakers call that colour,
#: several where one name covers a wide range of lightness or saturation.
PALETTE: dict[str, list[tuple[int, int, int]]] = {
    "black": [(0, 0, 0), (28, 28, 30)],
    "grey": [(80, 80, 82), (128, 128, 128), (175, 175, 172)],
    "white": [(255, 255, 255), (232, 232, 228)],
    "red": [(220, 20, 30), (190, 30, 45), (240, 60, 50), (205, 75, 75)],
    "maroon": [(115, 20, 30), (90, 25, 35)],
    "pink": [(245, 160, 185), (230, 90, 150), (250, 200, 210), (185, 45, 105)],
    "orange": [(245, 130, 30), (255, 165, 40), (230, 100, 40)],
    "yellow": [(250, 220, 40), (255, 240, 110), (230, 200, 20), (220, 200, 100)],
    "beige": [(225, 200, 160), (240, 225, 195), (200, 180, 140)],
    "brown": [(120, 72, 40), (150, 100, 60), (85, 55, 35)],
    "olive": [(120, 120, 40), (90, 95, 45)],
    "green": [(40, 160, 60), (0, 120, 40), (130, 200, 90), (40, 80, 45)],
    "teal": [(0, 128, 128), (50, 170, 160)],
    "blue": [(0, 0, 255), (40, 90, 200), (100, 150, 230), (0, 120, 255), (150, 190, 230), (75, 95, 140)],
    "navy": [(20, 30, 90), (30, 45, 75), (0, 0, 128)],
    "purple": [(120, 50, 160), (75, 0, 130), (170, 110, 200), (80, 30, 100), (145, 125, 190), (95, 45, 85)],
}

#: The most colour tags a site may ask for per asset (AEM allows 1-40 too; the palette has 16).
MAX_COLOURS = 40

#: Pixels looked at per image: a copy this many pixels on its longer side. Colour coverage does not need
#: detail, and 64 x 64 pixels cost well under a millisecond.
SAMPLE_SIZE = 64


def srgb_to_lab(rgb):
    """CIELAB (D65) of an ``(..., 3)`` array of sRGB values in 0-255."""
    linear = np.asarray(rgb, dtype=np.float64) / 255.0
    linear = np.where(linear <= 0.04045, linear / 12.92, ((linear + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array(
        [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
    )
    xyz = linear @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


_NAMES = list(PALETTE)
_ANCHOR_NAMES = np.array([_NAMES.index(name) for name, anchors in PALETTE.items() for _ in anchors])
_ANCHORS_LAB = srgb_to_lab([anchor for anchors in PALETTE.values() for anchor in anchors])


def pixel_names(rgb):
    """The palette index (into ``list(PALETTE)``) of each pixel of an ``(n, 3)`` sRGB array."""
    lab = srgb_to_lab(rgb)
    distances = ((lab[:, None, :] - _ANCHORS_LAB[None, :, :]) ** 2).sum(axis=2)
    return _ANCHOR_NAMES[distances.argmin(axis=1)]


#: Pixels are named through a table of every colour at 5 bits a channel (32,768 cells, each named as its
#: centre is): a lookup per pixel instead of a distance to every anchor, which made naming cost a tenth
#: of what embedding the image does.
_LEVEL_BITS = 5
_lookup = None


def _names_table():
    global _lookup
    if _lookup is None:
        step = 1 << (8 - _LEVEL_BITS)
        centres = np.arange(0, 256, step) + step // 2
        cells = np.stack(np.meshgrid(centres, centres, centres, indexing="ij"), axis=-1).reshape(-1, 3)
        _lookup = pixel_names(cells).astype(np.uint8)
    return _lookup


def image_coverage(image):
    """``{name: share of pixels}`` of a ``PIL.Image``, over a small copy; shares sum to 1."""
    small = image.convert("RGB")
    small.thumbnail((SAMPLE_SIZE, SAMPLE_SIZE))
    pixels = np.asarray(small, dtype=np.uint8).reshape(-1, 3)
    if not len(pixels):
        return {}
    cells = pixels.astype(np.intp) >> (8 - _LEVEL_BITS)
    index = (cells[:, 0] << (2 * _LEVEL_BITS)) | (cells[:, 1] << _LEVEL_BITS) | cells[:, 2]
    counts = np.bincount(_names_table()[index], minlength=len(_NAMES))
    return {_NAMES[index]: float(count) / len(pixels) for index, count in enumerate(counts) if count}


def colour_coverage(images):
    """``{name: coverage}`` over ``images`` (one image, or a video's frames): each name's share of pixels,
    averaged over the images, so that a colour on screen in one frame of sixteen covers a sixteenth of it."""
    images = list(images)
    totals = {}
    for image in images:
        for name, share in image_coverage(image).items():
            totals[name] = totals.get(name, 0.0) + share
    return {name: round(total / len(images), 4) for name, total in totals.items()} if images else {}


def choose_colours(coverage, min_coverage, max_colours):
    """The colours of ``coverage`` that cover at least ``min_coverage``, at most ``max_colours``, largest first."""
    ranked = sorted(coverage.items(), key=lambda item: (-item[1], item[0]))
    return [(name, share) for name, share in ranked if share >= min_coverage][:max_colours]
