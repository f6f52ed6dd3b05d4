"""Decode untrusted image files into small RGB images, safely.

Every image handed to a backbone comes through :func:`decode_image`. It lets only a
fixed set of Pillow plugins parse the file (so EPS never reaches Ghostscript), refuses
decompression bombs from their headers before any pixel is decoded (including bitmaps
hidden in icons), refuses files built to stall decoders (thousands of progressive JPEG
scans, swarms of empty PNG chunks), decodes large JPEGs at reduced size, applies EXIF
orientation, and flattens every mode Pillow can produce (CMYK, palette, alpha, 16-bit,
32-bit integer, float, Lab, bilevel) to 8-bit RGB without full-size intermediate copies.
"""

import io
import logging
import os
import struct

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from .errors import UnreadableAssetError, gettext_noop

logger = logging.getLogger(__name__)

# Pillow's own default; a site may lower it. Pillow's global check stays on as well, so it
# still refuses anything above twice its own limit whatever is passed here.
DEFAULT_MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485

# The Pillow plugins the decoder uses. Only these are even tried, so files in other formats
# never reach their parsers (EPS would be handed to Ghostscript). The JPEG plugin also opens
# multi-picture (MPO) files from cameras.
SUPPORTED_FORMATS = (
    "JPEG",
    "PNG",
    "GIF",
    "WEBP",
    "TIFF",
    "BMP",
    "DIB",
    "PPM",  # PBM, PGM, PPM and PNM
    "XBM",
    "XPM",
    "ICO",
    "PSD",
)

BACKGROUND = (255, 255, 255)

# Far more than any encoder writes (usually about ten); see _check_jpeg_scans.
MAX_JPEG_SCANS = 100

# PNGs with more chunks than this, averaging under MIN_PNG_MEAN_CHUNK_BYTES, are refused; see _check_png_chunks.
MIN_PNG_CHUNKS_CHECKED = 20_000
MIN_PNG_MEAN_CHUNK_BYTES = 256

# How many bytes are read up front to explain refusals and to pre-check icon directories.
SNIFF_BYTES = 512

# Modes Pillow can shrink before conversion without first copying the full-size image.
# The others (alpha, palette, bilevel, Lab) are converted band by band instead: converting or
# resampling them whole would copy the full image, doubling what a large file costs.
NATIVE_SHRINK_MODES = frozenset({"L", "I", "I;16", "F", "RGB", "RGBX", "CMYK", "YCbCr"})
BAND_PIXELS = 1 << 22
SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})

ORIENTATION_TAG = 0x0112
ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}

# Recognisable formats that are refused, so the editor is told what the file is rather than "not an image".
UNSUPPORTED_SIGNATURES = (
    (b"%!PS", "PostScript/EPS"),
    (b"\xc5\xd0\xd3\xc6", "EPS"),
    (b"%PDF", "PDF"),
)
HEIF_BRANDS = (b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1")

# Pillow's plugins report corrupt data with a wide variety of exception types.
CORRUPT_DATA_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
    OverflowError,
    struct.error,
)


def decode_image(source, *, target_size=512, max_pixels=DEFAULT_MAX_PIXELS):
    """Return an 8-bit RGB ``PIL.Image`` whose shorter side is at most about ``target_size``.

    ``source`` is a path, a seekable binary file object or ``bytes``; a file object is
    read from its start and left open. ``target_size=None`` keeps the full size.
    ``max_pixels`` (width × height) is checked from the file's header before any pixel is
    decoded. Raises :class:`UnreadableAssetError`, with a message fit to show an editor,
    for anything that cannot be used: empty, truncated, corrupt, hostile or unsupported.
    """
    if isinstance(source, bytes | bytearray | memoryview):
        source = io.BytesIO(source)
    try:
        if isinstance(source, str | os.PathLike):
            with open(source, "rb") as file:
                return _decode(file, target_size, max_pixels)
        return _decode(source, target_size, max_pixels)
    except UnreadableAssetError:
        raise
    except UnidentifiedImageError:
        raise UnreadableAssetError(gettext_noop("The file is not an image in a supported format.")) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        # The warning arrives as an exception only where warnings are turned into errors.
        raise UnreadableAssetError(
            gettext_noop("The image is too large to decode safely; it may be a decompression bomb (%(error)s)"),
            error=error,
        ) from None
    except MemoryError:
        raise UnreadableAssetError(gettext_noop("The image is too large to decode in the memory available.")) from None
    except FileNotFoundError:
        raise UnreadableAssetError(gettext_noop("The image file is missing.")) from None
    except CORRUPT_DATA_ERRORS as error:
        raise UnreadableAssetError(
            gettext_noop("The image file is corrupt or truncated (%(error)s)."), error=_describe(error)
        ) from None
    except Exception as error:
        # Hostile input reaches code paths nobody tested; one bad file must not crash a worker.
        logger.warning("Unexpected error decoding an image", exc_info=True)
        raise UnreadableAssetError(
            gettext_noop("The image could not be decoded (%(error)s)."), error=_describe(error)
        ) from None


def _decode(file, target_size, max_pixels):
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    _refuse_known_unsupported(head)
    if head.startswith(b"\xff\xd8"):
        _check_jpeg_scans(file)
        file.seek(0)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        _check_png_chunks(file)
        file.seek(0)
    if head.startswith(b"\x00\x00\x01\x00"):
        # Pillow decodes an icon while opening it, and sizes it from the directory rather than
        # from the embedded bitmap or PNG, which may be far larger: check those first.
        _check_icon_frames(file, max_pixels)
        file.seek(0)
    with Image.open(file, formats=SUPPORTED_FORMATS) as image:
        _check_size(image.size, max_pixels)
        if image.format in ("JPEG", "MPO") and target_size:
            # libjpeg scales by 1/2, 1/4 or 1/8 while decoding (never below the requested size),
            # so a 50-megapixel photo never exists at full size in memory.
            image.draft("RGB", (target_size, target_size))
        # Multi-frame files (GIF, TIFF, WebP, MPO) open on their first frame; asking for
        # n_frames would walk the whole file, so the first frame is used as it is.
        image.load()
        # GIF frames and icon images can turn out larger than their header said.
        _check_size(image.size, max_pixels)
        orientation = _orientation(image)
        if image.format == "XBM":
            # Set XBM bits are the foreground, drawn black on white; Pillow decodes them as white.
            image = ImageOps.invert(image.convert("L"))
        if image.mode in NATIVE_SHRINK_MODES and "transparency" not in image.info:
            result = to_rgb(_shrink(image, target_size))
        else:
            result = _shrink(_to_rgb_in_bands(image, _reduce_factor(image.size, target_size)), target_size)
        if orientation in ORIENTATION_TRANSPOSE:
            result = result.transpose(ORIENTATION_TRANSPOSE[orientation])
        if result is image:
            # Closing the opened image releases its pixels, so hand back an independent copy.
            result = image.copy()
        # The EXIF orientation, ICC profile and transparency no longer describe these pixels.
        result.info = {}
        return result


def _refuse_known_unsupported(head):
    if not head:
        raise UnreadableAssetError(gettext_noop("The file is empty."))
    for signature, name in UNSUPPORTED_SIGNATURES:
        if head.startswith(signature):
            raise UnreadableAssetError(
                gettext_noop("%(format)s files are not supported; upload a JPEG, PNG or WebP image instead."),
                format=name,
            )
    if head[4:8] == b"ftyp" and head[8:12] in HEIF_BRANDS:
        raise UnreadableAssetError(
            gettext_noop("AVIF and HEIC images are not supported; upload a JPEG, PNG or WebP image instead.")
        )
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and b"<svg" in head.lower():
        raise UnreadableAssetError(
            gettext_noop("SVG images are not supported; upload a JPEG, PNG or WebP image instead.")
        )


def _check_size(size, max_pixels):
    width, height = size
    if width <= 0 or height <= 0:
        raise UnreadableAssetError(gettext_noop("The image has no pixels."))
    if max_pixels and width * height > max_pixels:
        raise UnreadableAssetError(
            gettext_noop("The image is %(width)s×%(height)s pixels, more than the %(limit)s pixels allowed."),
            width=str(width),
            height=str(height),
            limit=max_pixels,
        )


def _check_jpeg_scans(file):
    # Every scan of a progressive JPEG revisits every coefficient of the image, and libjpeg
    # accepts any number of them: a few hundred kilobytes of tiny repeated scans keep a worker
    # busy for minutes. Encoders write about ten. Within entropy-coded data 0xFF is always
    # followed by 0x00 or a restart marker, so counting the SOS marker bytes counts the scans.
    scans = 0
    carry = b""
    while chunk := file.read(1 << 20):
        scans += (carry + chunk).count(b"\xff\xda")
        carry = chunk[-1:]
        if scans > MAX_JPEG_SCANS:
            raise UnreadableAssetError(
                gettext_noop(
                    "The JPEG has more than %(limit)s progressive scans; it is damaged or built to stall decoders."
                ),
                limit=str(MAX_JPEG_SCANS),
            )


def _check_png_chunks(file):
    # Pillow handles each PNG chunk in Python, about 5 µs apiece: a file made of millions of
    # empty chunks takes most of a minute to open. Real files use a few large chunks.
    file.seek(8)
    chunks = payload = 0
    while len(header := file.read(8)) == 8:
        length, kind = struct.unpack(">I4s", header)
        chunks += 1
        payload += length
        if kind == b"IEND":
            return
        if chunks > MIN_PNG_CHUNKS_CHECKED and payload < chunks * MIN_PNG_MEAN_CHUNK_BYTES:
            raise UnreadableAssetError(
                gettext_noop(
                    "The PNG is split into more than %(limit)s tiny chunks; it is damaged or built to stall decoders."
                ),
                limit=MIN_PNG_CHUNKS_CHECKED,
            )
        file.seek(length + 4, os.SEEK_CUR)


def _check_icon_frames(file, max_pixels):
    header = file.read(6)
    if len(header) < 6:
        return  # Pillow will refuse it
    (count,) = struct.unpack("<H", header[4:6])
    directory = file.read(16 * count)
    for start in range(0, len(directory) - 15, 16):
        (offset,) = struct.unpack("<I", directory[start + 12 : start + 16])
        file.seek(offset)
        frame_head = file.read(24)
        if frame_head.startswith(b"\x89PNG\r\n\x1a\n") and len(frame_head) == 24:
            width, height = struct.unpack(">II", frame_head[16:24])
        elif len(frame_head) >= 12:
            # A BITMAPINFOHEADER; its height counts the colour and the mask bitmaps together.
            width, height = struct.unpack("<ii", frame_head[4:12])
            width, height = abs(width), abs(height) // 2
        else:
            continue
        _check_size((max(width, 1), max(height, 1)), max_pixels)


def _orientation(image):
    try:
        return int(image.getexif().get(ORIENTATION_TAG, 1))
    except Exception:
        # A damaged EXIF block should cost the orientation, not the whole image.
        return 1


def _shrink(image, target_size):
    width, height = image.size
    if not target_size or min(width, height) <= target_size:
        return image
    scale = target_size / min(width, height)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # Box-reducing first (reducing_gap) makes large images shrink fast; Pillow cannot box-reduce
    # 16-bit images, only resample them directly.
    reducing_gap = None if image.mode in SIXTEEN_BIT_MODES else 2.0
    return image.resize(size, Image.Resampling.BICUBIC, reducing_gap=reducing_gap)


def _reduce_factor(size, target_size):
    """The integer box-reduction that keeps the shorter side at least twice ``target_size``."""
    return max(1, min(size) // (2 * target_size)) if target_size else 1


def _to_rgb_in_bands(image, factor):
    """``to_rgb`` and box-reduce by ``factor``, a band of rows at a time, so copies stay small."""
    width, height = image.size
    rows = max(1, BAND_PIXELS // width // factor) * factor
    if factor == 1 and rows >= height:
        return to_rgb(image)
    result = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    for top in range(0, height, rows):
        band = to_rgb(image.crop((0, top, width, min(top + rows, height))))
        result.paste(band.reduce(factor) if factor > 1 else band, (0, top // factor))
    return result


def to_rgb(image):
    """Flatten any Pillow mode to 8-bit RGB, compositing transparency on white."""
    mode = image.mode
    if mode == "RGB" and "transparency" not in image.info:
        return image
    if mode in SIXTEEN_BIT_MODES or mode in ("I", "F"):
        image = _rescale_to_8bit(image)
    elif mode == "LAB":
        # Pillow's plain convert() copies Lab channels into RGB unchanged, which gives false colours.
        return ImageCms.applyTransform(image, _lab_to_srgb())
    if image.mode in ("RGBa", "La"):
        image = image.convert(image.mode.upper())
    elif image.mode in ("P", "PA", "LA") or "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        background = Image.new("RGB", image.size, BACKGROUND)
        background.paste(image, mask=image.getchannel("A"))
        return background
    return image.convert("RGB")


_lab_transform = None


def _lab_to_srgb():
    global _lab_transform
    if _lab_transform is None:
        _lab_transform = ImageCms.buildTransform(
            ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"
        )
    return _lab_transform


def _rescale_to_8bit(image):
    """Map 16-bit, 32-bit integer and float images to an 8-bit greyscale ``L`` image.

    Pillow's own ``convert("L")`` clips instead of scaling, turning most 16-bit images white.
    """
    pixels = np.asarray(image)
    if image.mode in SIXTEEN_BIT_MODES:
        scaled = pixels.astype(np.float32) / 257.0
    else:
        pixels = np.nan_to_num(pixels.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        low, high = float(pixels.min()), float(pixels.max())
        if image.mode == "I" and low >= 0 and high <= 65535:
            # Pillow opens 16-bit PPM/PGM and many 16-bit TIFFs as 32-bit "I" holding 0–65535.
            scaled = pixels / 257.0
        elif image.mode == "F" and low >= 0 and high <= 1:
            scaled = pixels * 255.0
        elif high > low:
            scaled = (pixels - low) * (255.0 / (high - low))
        else:
            scaled = np.zeros_like(pixels)
    return Image.fromarray(np.clip(np.rint(scaled), 0, 255).astype(np.uint8))


def _describe(error):
    message = str(error).strip()
    return f"{type(error).__name__}: {message}" if message else type(error).__name__
