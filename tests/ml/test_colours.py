"""Colour coverage and naming (``ml.colours``), on drawn images of known colours and on real photographs."""

import numpy as np
import pytest
from PIL import Image, ImageOps

from wagtail_smarttags.ml.colours import PALETTE, choose_colours, colour_coverage, image_coverage, pixel_names

from ..datasets import clothing_images

# CSS colour keywords (sRGB) whose name is a palette name, or whose colour English calls by one.
NAMED = {
    "red": (255, 0, 0), "crimson": (220, 20, 60), "maroon": (128, 0, 0), "pink": (255, 192, 203),
    "hotpink": (255, 105, 180), "orange": (255, 165, 0), "yellow": (255, 255, 0), "gold": (255, 215, 0),
    "beige": (245, 245, 220), "tan": (210, 180, 140), "saddlebrown": (139, 69, 19), "olive": (128, 128, 0),
    "green": (0, 128, 0), "lime": (0, 255, 0), "darkgreen": (0, 100, 0), "teal": (0, 128, 128),
    "blue": (0, 0, 255), "royalblue": (65, 105, 225), "steelblue": (70, 130, 180), "navy": (0, 0, 128),
    "midnightblue": (25, 25, 112), "purple": (128, 0, 128), "indigo": (75, 0, 130), "white": (255, 255, 255),
    "black": (0, 0, 0), "grey": (128, 128, 128), "silver": (192, 192, 192),
}  # fmt: skip
PALETTE_NAME = {
    "crimson": "red", "hotpink": "pink", "gold": "yellow", "tan": "beige", "saddlebrown": "brown", "lime": "green",
    "darkgreen": "green", "royalblue": "blue", "steelblue": "blue", "midnightblue": "navy", "indigo": "purple",
    "silver": "grey",
}  # fmt: skip


def test_css_colours_get_the_names_english_gives_them():
    names = list(PALETTE)
    got = {css: names[index] for css, index in zip(NAMED, pixel_names(np.array(list(NAMED.values()))), strict=True)}
    assert got == {css: PALETTE_NAME.get(css, css) for css in NAMED}


def test_coverage_is_the_share_of_pixels_of_each_colour():
    image = Image.new("RGB", (64, 64), (0, 0, 128))
    image.paste((255, 215, 0), (0, 0, 16, 64))  # a quarter of the width
    assert image_coverage(image) == {"navy": 0.75, "yellow": 0.25}
    assert choose_colours(image_coverage(image), min_coverage=0.3, max_colours=3) == [("navy", 0.75)]


def test_a_videos_coverage_is_averaged_over_its_frames():
    frames = [Image.new("RGB", (96, 64), colour) for colour in [(255, 0, 0), (255, 0, 0), (0, 0, 255), (0, 128, 0)]]
    assert colour_coverage(frames) == {"red": 0.5, "blue": 0.25, "green": 0.25}
    assert colour_coverage([]) == {}


def test_colours_are_chosen_by_coverage_up_to_the_limit():
    coverage = {"red": 0.4, "grey": 0.3, "white": 0.2, "black": 0.1}
    assert choose_colours(coverage, 0.15, 2) == [("red", 0.4), ("grey", 0.3)]
    assert choose_colours(coverage, 0.15, 40) == [("red", 0.4), ("grey", 0.3), ("white", 0.2)]
    assert choose_colours(coverage, 0.5, 3) == []


@pytest.fixture(scope="module")
def photos():
    paths = clothing_images("validation", per_class=1)
    return [Image.open(path[0]).convert("RGB") for path in paths.values()]


def test_a_flipped_or_resized_photo_has_the_same_colours(photos):
    for photo in photos:
        coverage = colour_coverage([photo])
        assert sum(coverage.values()) == pytest.approx(1, abs=1e-3)
        for copy in (ImageOps.mirror(photo), photo.resize((photo.width // 2, photo.height // 2))):
            other = colour_coverage([copy])
            assert sum(abs(share - other.get(name, 0)) for name, share in coverage.items()) < 0.05
            assert [name for name, _ in choose_colours(other, 0.15, 3)] == [
                name for name, _ in choose_colours(coverage, 0.15, 3)
            ]


def test_a_black_and_white_photo_is_only_black_grey_and_white(photos):
    for photo in photos:
        assert set(colour_coverage([ImageOps.grayscale(photo)])) <= {"black", "grey", "white"}


def test_the_palettes_colours_are_what_real_photos_show(photos):
    # Of ten photographs of garments, most show a colour besides the neutral ones, each with a real share.
    chromatic = [
        name
        for photo in photos
        for name, share in choose_colours(colour_coverage([photo]), 0.15, 3)
        if name not in {"black", "grey", "white"}
    ]
    assert len(set(chromatic)) >= 4
