"""Safe image decoding: every supported format from real files, every mode, and hostile input.

No database: these tests exercise ``wagtail_smarttags.ml.images`` on files written to ``tmp_path``.
"""

import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from PIL import EpsImagePlugin, Image, ImageFile, ImageOps, JpegImagePlugin, PngImagePlugin

from wagtail_smarttags.ml import images
from wagtail_smarttags.ml.errors import UnreadableAssetError
from wagtail_smarttags.ml.images import DEFAULT_MAX_PIXELS, decode_image, to_rgb

from .. import badfiles

RED = (255, 0, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# Hostile files make Pillow warn; here that is expected.
pytestmark = [
    pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning"),
    pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning"),
    pytest.mark.filterwarnings("ignore:Tag data larger than file:UserWarning"),
]

# A hostile file must be dealt with in well under this; the slowest legitimate case here takes milliseconds.
SECONDS_PER_BAD_FILE = 3


def assert_colour(image, expected, at=None, tolerance=24):
    at = at or (image.width // 2, image.height // 2)
    actual = image.getpixel(at)
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), (
        f"pixel {at} is {actual}, expected about {expected}"
    )


def save(image, path, format=None, **options):
    image.save(path, format, **options)
    return path


def solid(colour, size=(40, 30), mode="RGB"):
    return Image.new("RGB", size, colour).convert(mode)


def halves(size=(60, 40), left=RED, right=BLUE):
    """Left half ``left``, right half ``right``: shows which way an image was turned."""
    image = Image.new("RGB", size, right)
    image.paste(left, (0, 0, size[0] // 2, size[1]))
    return image


def with_transparent_border(mode):
    """A red 20×20 square in the middle of a 40×40 transparent image."""
    if mode == "P":
        # Index 0 is black but transparent: ignoring the transparency would show black corners.
        image = Image.new("P", (40, 40), 0)
        image.putpalette([0, 0, 0, 255, 0, 0])
        image.paste(1, (10, 10, 30, 30))
        image.info["transparency"] = 0
        return image
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (10, 10, 30, 30))
    return image


# Files in every supported format ------------------------------------------------------------


def jpeg(tmp_path):
    return save(solid(RED), tmp_path / "red.jpg", quality=95)


def progressive_jpeg(tmp_path):
    path = save(solid(RED), tmp_path / "progressive.jpg", progressive=True, quality=95)
    with Image.open(path) as written:
        assert written.info.get("progressive"), "Pillow did not write a progressive JPEG"
    return path


def cmyk_jpeg(tmp_path):
    return save(solid(RED, mode="CMYK"), tmp_path / "cmyk.jpg", quality=95)


def greyscale_jpeg(tmp_path):
    return save(solid((128, 128, 128), mode="L"), tmp_path / "grey.jpg", quality=95)


def mpo(tmp_path):
    return save(solid(RED), tmp_path / "stereo.mpo", "MPO", save_all=True, append_images=[solid(BLUE)])


def tiff(tmp_path):
    return save(solid(RED), tmp_path / "red.tif", compression="tiff_lzw")


def cmyk_tiff(tmp_path):
    return save(solid(RED, mode="CMYK"), tmp_path / "cmyk.tif")


def tiff_16bit_grey(tmp_path):
    image = Image.fromarray(np.full((30, 40), 40_000, dtype=np.uint16))
    assert image.mode == "I;16"
    return save(image, tmp_path / "grey16.tif")


def tiff_16bit_rgb(tmp_path):
    path = tmp_path / "red16.tif"
    path.write_bytes(badfiles.rgb16_tiff(40, 30, (65535, 0, 0)))
    return path


def tiff_32bit_integer(tmp_path):
    # Values far beyond 16 bits: the decoder stretches them, so the left edge is black and the right white.
    ramp = np.tile(np.linspace(0, 3_000_000, 40, dtype=np.int32), (30, 1))
    return save(Image.fromarray(ramp), tmp_path / "int32.tif")


def tiff_float(tmp_path):
    return save(Image.fromarray(np.full((30, 40), 0.5, dtype=np.float32)), tmp_path / "float.tif")


def tiff_bilevel(tmp_path):
    return save(halves(left=BLACK, right=WHITE).convert("1"), tmp_path / "bilevel.tif", compression="group4")


def tiff_multipage(tmp_path):
    return save(solid(RED), tmp_path / "pages.tif", save_all=True, append_images=[solid(BLUE), solid(WHITE)])


def png(tmp_path):
    return save(solid(RED), tmp_path / "red.png")


def png_16bit_grey(tmp_path):
    image = Image.fromarray(np.full((30, 40), 40_000, dtype=np.uint16))
    return save(image, tmp_path / "grey16.png")


def png_16bit_rgb(tmp_path):
    row = struct.pack(">HHH", 65535, 0, 0) * 40
    path = tmp_path / "red16.png"
    path.write_bytes(badfiles.png_bytes(40, 30, bit_depth=16, colour_type=2, rows=[row] * 30))
    return path


def png_palette_transparency(tmp_path):
    image = with_transparent_border("P")
    assert "transparency" in image.info
    return save(image, tmp_path / "palette.png")


def png_rgba(tmp_path):
    return save(with_transparent_border("RGBA"), tmp_path / "rgba.png")


def png_half_transparent(tmp_path):
    return save(Image.new("RGBA", (40, 30), (255, 0, 0, 128)), tmp_path / "half.png")


def png_grey_alpha(tmp_path):
    return save(Image.new("LA", (40, 30), (0, 128)), tmp_path / "la.png")


def png_bilevel(tmp_path):
    return save(halves(left=BLACK, right=WHITE).convert("1"), tmp_path / "bilevel.png")


def bmp(tmp_path):
    return save(solid(RED), tmp_path / "red.bmp")


def bmp_palette(tmp_path):
    return save(solid(RED, mode="P"), tmp_path / "palette.bmp")


def gif(tmp_path):
    return save(solid(RED, mode="P"), tmp_path / "red.gif")


def gif_transparency(tmp_path):
    return save(with_transparent_border("P"), tmp_path / "transparent.gif")


def gif_animated(tmp_path):
    frames = [solid(colour, mode="P") for colour in (RED, BLUE, WHITE)]
    return save(frames[0], tmp_path / "animated.gif", save_all=True, append_images=frames[1:], duration=100)


def pbm(tmp_path):
    return save(halves(left=BLACK, right=WHITE).convert("1"), tmp_path / "bilevel.pbm", "PPM")


def pgm(tmp_path):
    return save(solid((128, 128, 128), mode="L"), tmp_path / "grey.pgm", "PPM")


def pgm_16bit(tmp_path):
    path = tmp_path / "grey16.pgm"
    path.write_bytes(b"P5\n40 30\n65535\n" + struct.pack(">H", 40_000) * 1200)
    return path


def ppm(tmp_path):
    return save(solid(RED), tmp_path / "red.ppm", "PPM")


def pnm_plain_text(tmp_path):
    path = tmp_path / "red.pnm"
    path.write_bytes(b"P3\n# a comment\n40 30\n255\n" + b"255 0 0\n" * 1200)
    return path


def xbm(tmp_path):
    # Each 40-pixel row is 5 bytes, least significant bit first: the left 16 pixels are set.
    row = "0xff,0xff,0x00,0x00,0x00"
    path = tmp_path / "glyph.xbm"
    path.write_text(
        "#define glyph_width 40\n#define glyph_height 30\nstatic char glyph_bits[] = {\n"
        + ",\n".join([row] * 30)
        + "\n};\n"
    )
    return path


def xpm(tmp_path):
    # Pillow cannot write XPM. Left half red, right half transparent.
    rows = ['"' + "r" * 20 + "." * 20 + '"'] * 30
    path = tmp_path / "red.xpm"
    path.write_text(
        '/* XPM */\nstatic char *red[] = {\n"40 30 2 1",\n"r c #FF0000",\n". c None",\n' + ",\n".join(rows) + "\n};\n"
    )
    return path


def ico(tmp_path):
    return save(Image.new("RGBA", (48, 48), (255, 0, 0, 255)), tmp_path / "red.ico", sizes=[(16, 16), (48, 48)])


def ico_bitmap(tmp_path):
    image = Image.new("RGBA", (32, 32), (255, 0, 0, 255))
    return save(image, tmp_path / "bitmap.ico", sizes=[(32, 32)], bitmap_format="bmp")


def psd(tmp_path):
    from psd_tools import PSDImage

    path = tmp_path / "red.psd"
    PSDImage.frompil(solid(RED)).save(path)
    return path


def psd_rgba(tmp_path):
    from psd_tools import PSDImage

    path = tmp_path / "transparent.psd"
    PSDImage.frompil(with_transparent_border("RGBA")).save(path)
    return path


def webp(tmp_path):
    return save(solid(RED), tmp_path / "red.webp", quality=95)


def webp_lossless_alpha(tmp_path):
    return save(with_transparent_border("RGBA"), tmp_path / "alpha.webp", lossless=True)


def webp_animated(tmp_path):
    frames = [solid(colour) for colour in (RED, BLUE)]
    return save(frames[0], tmp_path / "animated.webp", save_all=True, append_images=frames[1:], lossless=True)


CENTRE = None
TOP_LEFT = (1, 1)
LEFT = (5, 15)
RIGHT = (35, 15)

# (file maker, format Pillow must report, decoded size, [(point, colour), ...])
SUPPORTED_FILES = {
    "jpeg": (jpeg, "JPEG", (40, 30), [(CENTRE, RED)]),
    "progressive_jpeg": (progressive_jpeg, "JPEG", (40, 30), [(CENTRE, RED)]),
    "cmyk_jpeg": (cmyk_jpeg, "JPEG", (40, 30), [(CENTRE, RED)]),
    "greyscale_jpeg": (greyscale_jpeg, "JPEG", (40, 30), [(CENTRE, (128, 128, 128))]),
    "mpo_first_picture": (mpo, "MPO", (40, 30), [(CENTRE, RED)]),
    "tiff": (tiff, "TIFF", (40, 30), [(CENTRE, RED)]),
    "cmyk_tiff": (cmyk_tiff, "TIFF", (40, 30), [(CENTRE, RED)]),
    "tiff_16bit_grey": (tiff_16bit_grey, "TIFF", (40, 30), [(CENTRE, (156, 156, 156))]),
    "tiff_16bit_rgb": (tiff_16bit_rgb, "TIFF", (40, 30), [(CENTRE, RED)]),
    "tiff_32bit_integer": (tiff_32bit_integer, "TIFF", (40, 30), [((0, 15), BLACK), ((39, 15), WHITE)]),
    "tiff_float": (tiff_float, "TIFF", (40, 30), [(CENTRE, (128, 128, 128))]),
    "tiff_bilevel": (tiff_bilevel, "TIFF", (60, 40), [((5, 20), BLACK), ((55, 20), WHITE)]),
    "tiff_multipage_first_page": (tiff_multipage, "TIFF", (40, 30), [(CENTRE, RED)]),
    "png": (png, "PNG", (40, 30), [(CENTRE, RED)]),
    "png_16bit_grey": (png_16bit_grey, "PNG", (40, 30), [(CENTRE, (156, 156, 156))]),
    "png_16bit_rgb": (png_16bit_rgb, "PNG", (40, 30), [(CENTRE, RED)]),
    "png_palette_transparency": (png_palette_transparency, "PNG", (40, 40), [(CENTRE, RED), (TOP_LEFT, WHITE)]),
    "png_rgba": (png_rgba, "PNG", (40, 40), [(CENTRE, RED), (TOP_LEFT, WHITE)]),
    "png_half_transparent": (png_half_transparent, "PNG", (40, 30), [(CENTRE, (255, 127, 127))]),
    "png_grey_alpha": (png_grey_alpha, "PNG", (40, 30), [(CENTRE, (127, 127, 127))]),
    "png_bilevel": (png_bilevel, "PNG", (60, 40), [((5, 20), BLACK), ((55, 20), WHITE)]),
    "bmp": (bmp, "BMP", (40, 30), [(CENTRE, RED)]),
    "bmp_palette": (bmp_palette, "BMP", (40, 30), [(CENTRE, RED)]),
    "gif": (gif, "GIF", (40, 30), [(CENTRE, RED)]),
    "gif_transparency": (gif_transparency, "GIF", (40, 40), [(CENTRE, RED), (TOP_LEFT, WHITE)]),
    "gif_animated_first_frame": (gif_animated, "GIF", (40, 30), [(CENTRE, RED)]),
    "pbm": (pbm, "PPM", (60, 40), [((5, 20), BLACK), ((55, 20), WHITE)]),
    "pgm": (pgm, "PPM", (40, 30), [(CENTRE, (128, 128, 128))]),
    "pgm_16bit": (pgm_16bit, "PPM", (40, 30), [(CENTRE, (156, 156, 156))]),
    "ppm": (ppm, "PPM", (40, 30), [(CENTRE, RED)]),
    "pnm_plain_text": (pnm_plain_text, "PPM", (40, 30), [(CENTRE, RED)]),
    "xbm": (xbm, "XBM", (40, 30), [(LEFT, BLACK), (RIGHT, WHITE)]),
    "xpm": (xpm, "XPM", (40, 30), [(LEFT, RED), (RIGHT, WHITE)]),
    "ico": (ico, "ICO", (48, 48), [(CENTRE, RED)]),
    "ico_bitmap": (ico_bitmap, "ICO", (32, 32), [(CENTRE, RED)]),
    "psd": (psd, "PSD", (40, 30), [(CENTRE, RED)]),
    "psd_rgba": (psd_rgba, "PSD", (40, 40), [(CENTRE, RED), (TOP_LEFT, WHITE)]),
    "webp": (webp, "WEBP", (40, 30), [(CENTRE, RED)]),
    "webp_lossless_alpha": (webp_lossless_alpha, "WEBP", (40, 40), [(CENTRE, RED), (TOP_LEFT, WHITE)]),
    "webp_animated_first_frame": (webp_animated, "WEBP", (40, 30), [(CENTRE, RED)]),
}


@pytest.mark.parametrize("case", SUPPORTED_FILES)
def test_every_supported_format_decodes_to_rgb_with_the_right_size_and_colour(tmp_path, case):
    make_file, expected_format, size, colours = SUPPORTED_FILES[case]
    path = make_file(tmp_path)
    with Image.open(path) as original:
        assert original.format == expected_format, "the test file is not in the format it is meant to cover"

    image = decode_image(path, target_size=None)

    assert image.mode == "RGB"
    assert image.size == size
    for point, colour in colours:
        assert_colour(image, colour, at=point)


def test_the_decoded_image_outlives_the_file(tmp_path):
    path = gif_animated(tmp_path)
    image = decode_image(path)
    path.unlink()
    assert_colour(image.copy().resize((4, 4)), RED)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files through /proc")
def test_files_opened_from_a_path_are_closed(tmp_path):
    paths = [gif_animated(tmp_path), tiff_multipage(tmp_path), webp_animated(tmp_path), ico(tmp_path)]
    before = len(os.listdir("/proc/self/fd"))
    for path in paths:
        decode_image(path)
    assert len(os.listdir("/proc/self/fd")) == before


# Sources ---------------------------------------------------------------------------------------


def test_accepts_paths_strings_bytes_and_file_objects(tmp_path):
    path = png(tmp_path)
    data = path.read_bytes()
    file = io.BytesIO(data)
    file.seek(17)  # a file object is read from its start wherever it was left
    for source in (path, str(path), data, file):
        assert_colour(decode_image(source), RED)
    assert not file.closed, "the caller's file object is left open"


def test_a_missing_file_is_reported_as_unreadable(tmp_path):
    with pytest.raises(UnreadableAssetError, match="missing"):
        decode_image(tmp_path / "nope.jpg")


# Size --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size, target_size, expected",
    [
        ((2000, 1000), 256, (512, 256)),
        ((1000, 2000), 256, (256, 512)),
        ((300, 200), 256, (300, 200)),  # never enlarged
        ((2000, 1000), None, (2000, 1000)),
    ],
)
def test_shorter_side_is_reduced_to_the_target(tmp_path, size, target_size, expected):
    path = save(solid(RED, size=size), tmp_path / "big.png")
    image = decode_image(path, target_size=target_size)
    assert image.size == expected
    assert_colour(image, RED)


@pytest.mark.parametrize("mode", ["I;16", "F", "P", "LA"])
def test_large_images_in_any_mode_are_reduced(mode, tmp_path):
    image = solid((200, 200, 200), size=(1200, 800), mode="L")
    if mode == "I;16":
        image = Image.fromarray(np.asarray(image).astype(np.uint16) * 257)
    elif mode == "F":
        image = Image.fromarray(np.asarray(image).astype(np.float32) / 255)
    else:
        image = image.convert(mode)
    path = save(image, tmp_path / ("big.tif" if mode in ("I;16", "F") else "big.png"))
    decoded = decode_image(path, target_size=100)
    assert (decoded.mode, decoded.size) == ("RGB", (150, 100))
    assert_colour(decoded, (200, 200, 200))


def test_large_transparent_images_are_flattened_and_reduced(tmp_path):
    image = Image.new("RGBA", (2400, 1600), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (0, 0, 2400, 800))
    decoded = decode_image(save(image, tmp_path / "big.png"), target_size=100)
    assert decoded.size == (150, 100)
    assert_colour(decoded, RED, at=(75, 20))
    assert_colour(decoded, WHITE, at=(75, 80))


def noise(mode, size=(203, 151), seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 4), dtype=np.uint8)
    image = Image.fromarray(pixels)
    if mode == "P":
        image = image.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
        image.info["transparency"] = 3
        return image
    return image.convert(mode)


@pytest.mark.parametrize("mode", ["RGBA", "LA", "P", "PA", "1", "La", "RGBa"])
@pytest.mark.parametrize("factor", [1, 3, 4])
def test_converting_in_bands_matches_converting_the_whole_image(monkeypatch, mode, factor):
    monkeypatch.setattr(images, "BAND_PIXELS", 2500)  # many bands, the last one partial
    image = noise(mode)
    whole = to_rgb(image)
    if factor > 1:
        whole = whole.reduce(factor)
    banded = images._to_rgb_in_bands(image, factor)
    assert banded.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(banded), np.asarray(whole))


def test_large_jpegs_are_decoded_at_reduced_size(tmp_path, monkeypatch):
    path = save(solid(RED, size=(2400, 1600)), tmp_path / "big.jpg")
    decoded_sizes = []
    original_draft = JpegImagePlugin.JpegImageFile.draft

    def recording_draft(image, mode, size):
        result = original_draft(image, mode, size)
        decoded_sizes.append(image.size)
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", recording_draft)
    image = decode_image(path, target_size=256)

    # libjpeg decodes at 1/4 scale (600×400, still above the target) before the final resize.
    assert decoded_sizes == [(600, 400)]
    assert image.size == (384, 256)
    assert_colour(image, RED)


def test_too_many_pixels_are_refused_from_the_header_before_decoding(tmp_path, monkeypatch):
    path = save(solid(RED, size=(100, 100)), tmp_path / "red.png")
    loads = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda image: loads.append(image))
    with pytest.raises(UnreadableAssetError, match="100×100 pixels, more than the 5,000 pixels allowed"):
        decode_image(path, max_pixels=5000)
    assert loads == []


def test_pillow_decompression_bomb_limit_applies_even_without_max_pixels(tmp_path):
    path = badfiles.BAD_IMAGE_FILES["png_bomb"](tmp_path)
    with pytest.raises(UnreadableAssetError, match="decompression bomb"):
        decode_image(path, max_pixels=None)
    assert DEFAULT_MAX_PIXELS == Image.MAX_IMAGE_PIXELS


# Orientation ---------------------------------------------------------------------------------


def exif_with_orientation(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_like_pillow_does(tmp_path, orientation):
    path = save(halves(), tmp_path / "oriented.jpg", exif=exif_with_orientation(orientation), quality=95)
    with Image.open(path) as original:
        expected = ImageOps.exif_transpose(original).convert("RGB")

    image = decode_image(path)

    assert image.size == expected.size
    difference = np.abs(np.asarray(image, dtype=int) - np.asarray(expected, dtype=int))
    assert difference.mean() < 4


def test_orientation_6_turns_a_sideways_photo_upright(tmp_path):
    path = save(halves(), tmp_path / "sideways.jpg", exif=exif_with_orientation(6), quality=95)
    image = decode_image(path)
    assert image.size == (40, 60)
    assert_colour(image, RED, at=(20, 5))
    assert_colour(image, BLUE, at=(20, 55))
    # The orientation is not left in the result, where a later exif_transpose would turn it again.
    assert ImageOps.exif_transpose(image).size == (40, 60)


@pytest.mark.parametrize("extension", ["tif", "png", "webp"])
def test_orientation_in_other_formats(tmp_path, extension):
    path = save(halves(), tmp_path / f"sideways.{extension}", exif=exif_with_orientation(8), lossless=True)
    image = decode_image(path)
    assert image.size == (40, 60)
    assert_colour(image, BLUE, at=(20, 5))
    assert_colour(image, RED, at=(20, 55))


def test_a_corrupt_exif_block_costs_the_orientation_not_the_image(tmp_path):
    path = badfiles.BAD_IMAGE_FILES["jpeg_with_corrupt_exif"](tmp_path)
    image = decode_image(path)
    assert image.size == (64, 48)
    assert_colour(image, RED)


# Modes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mode, colour, expected",
    [
        ("1", 1, WHITE),
        ("L", 128, (128, 128, 128)),
        ("P", None, RED),
        ("RGB", RED, RED),
        ("RGBA", (255, 0, 0, 255), RED),
        ("RGBA", (0, 0, 255, 0), WHITE),
        ("RGBX", (255, 0, 0, 0), RED),
        ("CMYK", (0, 255, 255, 0), RED),
        ("YCbCr", (76, 85, 255), RED),
        ("HSV", (0, 255, 255), RED),
        ("LAB", (128, 128, 128), (119, 119, 119)),
        ("LA", (0, 255), BLACK),
        ("LA", (0, 0), WHITE),
        ("La", (0, 255), BLACK),
        ("PA", None, RED),
        ("RGBa", (255, 0, 0, 255), RED),
        ("I", 65535, WHITE),
        ("I", 32896, (128, 128, 128)),
        ("I;16", 32896, (128, 128, 128)),
        ("I;16B", 65535, WHITE),
        ("F", 1.0, WHITE),
        ("F", 0.25, (64, 64, 64)),
    ],
)
def test_every_mode_flattens_to_8bit_rgb(mode, colour, expected):
    if mode in ("P", "PA"):
        image = Image.new("RGB", (8, 8), RED).convert("P")
        if mode == "PA":
            image = image.convert("PA")
    else:
        image = Image.new(mode, (8, 8), colour)
    result = to_rgb(image)
    assert result.mode == "RGB"
    assert result.size == (8, 8)
    assert_colour(result, expected, tolerance=3)


def test_rgb_with_a_transparent_colour_key_is_composited():
    image = Image.new("RGB", (8, 8), BLUE)
    image.info["transparency"] = BLUE
    assert_colour(to_rgb(image), WHITE, tolerance=0)


def test_float_images_with_nan_and_unusual_ranges_do_not_fail():
    pixels = np.array([[np.nan, -np.inf], [np.inf, 1e30]], dtype=np.float32)
    assert to_rgb(Image.fromarray(pixels)).mode == "RGB"
    constant = Image.fromarray(np.full((4, 4), 7e9, dtype=np.float32))
    assert to_rgb(constant).mode == "RGB"


# Hostile and broken files --------------------------------------------------------------------


class DecodeTookTooLong(Exception):
    pass


@contextmanager
def time_limit(seconds):
    """Fail a decode that runs away (Pillow returns to Python between chunks, so the alarm lands)."""

    def interrupt(signum, frame):
        raise DecodeTookTooLong(f"still decoding after {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_there_are_plenty_of_bad_files():
    assert len(badfiles.BAD_IMAGE_FILES) >= 30
    assert set(badfiles.DECODES_SAFELY) <= set(badfiles.BAD_IMAGE_FILES)
    filenames = [writer.filename for writer in badfiles.BAD_IMAGE_FILES.values()]
    assert len(set(filenames)) == len(filenames)


def test_write_all_writes_every_file(tmp_path):
    paths = badfiles.write_all(tmp_path / "bad")
    assert set(paths) == set(badfiles.BAD_IMAGE_FILES)
    assert all(path.is_file() and path.stat().st_size < 1_000_000 for path in paths.values())


@pytest.mark.parametrize("name", [name for name in badfiles.BAD_IMAGE_FILES if name not in badfiles.DECODES_SAFELY])
def test_bad_files_are_refused_with_a_readable_message(tmp_path, name):
    path = badfiles.BAD_IMAGE_FILES[name](tmp_path)
    started = time.monotonic()
    with time_limit(SECONDS_PER_BAD_FILE), pytest.raises(UnreadableAssetError) as raised:
        decode_image(path)
    assert time.monotonic() - started < SECONDS_PER_BAD_FILE
    message = str(raised.value)
    assert 10 < len(message) < 400 and message[0].isupper()
    assert raised.value.__cause__ is None, "Pillow's exception is not chained into what editors see"


@pytest.mark.parametrize("name", badfiles.DECODES_SAFELY)
def test_suspicious_but_valid_files_decode_harmlessly(tmp_path, name):
    path = badfiles.BAD_IMAGE_FILES[name](tmp_path)
    with time_limit(SECONDS_PER_BAD_FILE):
        image = decode_image(path)
    assert image.mode == "RGB"
    assert max(image.size) <= 64


@pytest.mark.parametrize(
    "name, message",
    [
        ("empty_file", "empty"),
        ("text_named_jpeg", "not an image"),
        ("truncated_jpeg", "truncated"),
        ("truncated_png", "truncated"),
        ("png_bomb", "decompression bomb"),
        ("png_bomb_below_pillow_error_limit", "12000×12000 pixels, more than the 89,478,485 pixels allowed"),
        ("icon_with_png_bomb", "12000×12000 pixels"),
        ("icon_with_bmp_bomb", "40000×40000 pixels"),
        ("progressive_jpeg_scan_bomb", "more than 100 progressive scans"),
        ("eps_file", "EPS files are not supported"),
        ("pdf_named_png", "PDF files are not supported"),
        ("svg_named_png", "SVG images are not supported"),
    ],
)
def test_refusals_say_why(tmp_path, name, message):
    path = badfiles.BAD_IMAGE_FILES[name](tmp_path)
    with pytest.raises(UnreadableAssetError, match=message):
        decode_image(path)


def test_xml_metadata_mentioning_svg_does_not_make_a_jpeg_an_svg(tmp_path):
    data = badfiles.small_jpeg()
    comment = b"<x:xmpmeta><svg-note>drawn in <svg> first</svg-note></x:xmpmeta>"
    path = tmp_path / "with_comment.jpg"
    path.write_bytes(data[:2] + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + data[2:])
    assert_colour(decode_image(path), RED)


def test_eps_never_reaches_ghostscript_or_the_eps_parser(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *args, **kwargs: calls.append("Ghostscript"))
    monkeypatch.setattr(EpsImagePlugin.EpsImageFile, "_open", lambda image: calls.append("EPS parser"))
    for name in ("eps_file", "eps_named_jpeg", "binary_eps_named_png"):
        with pytest.raises(UnreadableAssetError):
            decode_image(badfiles.BAD_IMAGE_FILES[name](tmp_path))
    # Even without the signature check, only the supported plugins are tried.
    path = tmp_path / "sneaky.jpg"
    path.write_bytes(b"\n" + badfiles.EPS)
    with pytest.raises(UnreadableAssetError):
        decode_image(path)
    assert calls == []


def test_unexpected_decoder_errors_are_reported_not_raised(tmp_path, monkeypatch):
    def broken_decoder(image):
        raise RuntimeError("boom")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load_prepare", broken_decoder)
    with pytest.raises(UnreadableAssetError, match="could not be decoded.*RuntimeError: boom"):
        decode_image(png(tmp_path))


MEMORY_PROBE = """
import json, resource, sys, tempfile, time, warnings
resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # a runaway allocation fails instead of swapping
warnings.simplefilter("ignore")
from tests import badfiles
from wagtail_smarttags.ml.errors import UnreadableAssetError
from wagtail_smarttags.ml.images import decode_image

paths = badfiles.write_all(tempfile.mkdtemp())
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
report = {}
for name, path in paths.items():
    started = time.monotonic()
    try:
        decode_image(path)
        outcome = "decoded"
    except UnreadableAssetError as error:
        outcome = "memory" if "memory available" in str(error) else "refused"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report[name] = {"outcome": outcome, "seconds": time.monotonic() - started, "peak_growth_kb": peak - baseline}
json.dump(report, sys.stdout)
"""


def test_bad_files_need_neither_much_time_nor_much_memory():
    """Decode every bad file in a fresh process, whose peak memory says what the decoder allocated."""
    completed = subprocess.run(
        [sys.executable, "-c", MEMORY_PROBE],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout)
    assert set(report) == set(badfiles.BAD_IMAGE_FILES)
    for name, result in report.items():
        expected = "decoded" if name in badfiles.DECODES_SAFELY else "refused"
        assert result["outcome"] == expected, name
        assert result["seconds"] < SECONDS_PER_BAD_FILE, name
        # Decoding everything adds less than 40 MB to the process's peak (the ICO bomb alone would add 144 MB).
        assert result["peak_growth_kb"] < 40_000, f"{name} raised peak memory by {result['peak_growth_kb']} KB"


def test_a_complete_bomb_png_really_is_one():
    """The bombs are real: the zero stream inflates to exactly the pixels the header promises."""
    data = badfiles.png_bomb_below_pillow_error_limit()
    idat_start = data.index(b"IDAT") + 4
    (idat_length,) = struct.unpack(">I", data[idat_start - 8 : idat_start - 4])
    inflater = zlib.decompressobj()
    total = 0
    stream = data[idat_start : idat_start + idat_length]
    while stream:
        total += len(inflater.decompress(stream, 1 << 24))
        stream = inflater.unconsumed_tail
    assert inflater.eof
    assert total == 12_000 * (1 + 12_000)
    assert len(data) < 200_000
