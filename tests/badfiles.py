"""Crafted hostile and broken image files, for any test that feeds untrusted uploads to the app.

``BAD_IMAGE_FILES`` maps a name to a writer: ``writer(directory) -> Path`` writes one file (its
file name, with a plausible extension, is ``writer.filename``) and returns its path.
:func:`write_all` writes every one. All files are small (well under 1 MB) and written in
milliseconds; the decompression bombs are real (complete, valid zero-filled pixel streams)
unless their docstring says otherwise.

Most of the files must be refused. ``DECODES_SAFELY`` names the few that are suspicious but
are valid images whose pixels can be decoded harmlessly, with the reason.

The module also exposes the small byte-level builders (:func:`png_bytes`, :func:`tiff_bytes`,
:func:`zero_zlib_stream`) that tests use to make unusual but valid files Pillow cannot write.
"""

import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

from PIL import Image

BAD_IMAGE_FILES = {}

DECODES_SAFELY = {}

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def write_all(directory):
    """Write every bad file into ``directory``; return ``{name: path}``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return {name: writer(directory) for name, writer in BAD_IMAGE_FILES.items()}


def bad_file(filename, decodes_safely=""):
    """Register a function returning a file's bytes as a writer of ``filename``."""

    def register(make_bytes):
        def writer(directory):
            path = Path(directory) / filename
            path.write_bytes(make_bytes())
            return path

        writer.__name__ = f"write_{make_bytes.__name__}"
        writer.__doc__ = make_bytes.__doc__
        writer.filename = filename
        BAD_IMAGE_FILES[make_bytes.__name__] = writer
        if decodes_safely:
            DECODES_SAFELY[make_bytes.__name__] = decodes_safely
        return make_bytes

    return register


# Builders ------------------------------------------------------------------------------------


def encode(image, format, **options):
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def red_square(mode="RGB", size=(32, 32)):
    return Image.new("RGB", size, (255, 0, 0)).convert(mode)


def png_chunk(kind, data, crc=None):
    if crc is None:
        crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc & 0xFFFFFFFF)


def png_bytes(width, height, *, bit_depth=8, colour_type=2, idat=None, rows=None, extra_chunks=()):
    """A PNG from raw parts: ``rows`` are unfiltered scanlines (bytes), or ``idat`` is ready zlib data."""
    if idat is None:
        idat = zlib.compress(b"".join(b"\x00" + row for row in rows))
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + b"".join(extra_chunks)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def zero_zlib_stream(length):
    """A valid zlib stream that inflates to ``length`` zero bytes, built in milliseconds.

    Each 1 MiB block is compressed once and repeated: after a full flush a deflate block refers
    to nothing before it, so identical blocks can be concatenated.
    """
    block_size = 1 << 20
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(block_size)) + compressor.flush(zlib.Z_FULL_FLUSH)
    whole, remainder = divmod(length, block_size)
    tail = compressor.compress(bytes(remainder)) + compressor.flush(zlib.Z_FINISH)
    # Adler-32 of n zero bytes: the byte sum stays 1, the running sum is n.
    checksum = ((length % 65521) << 16) | 1
    return b"\x78\xda" + block * whole + tail + struct.pack(">I", checksum)


def zero_png(width, height, *, channels=1, complete=True):
    """A black PNG (8-bit grey or RGBA) whose pixel stream is complete, or cut to its first 4 MiB."""
    colour_type = {1: 0, 4: 6}[channels]
    raw_length = height * (1 + width * channels)
    return png_bytes(
        width, height, colour_type=colour_type, idat=zero_zlib_stream(raw_length if complete else 1 << 22)
    )


def tiff_bytes(entries, *, data=b"", data_offset=None):
    """A little-endian TIFF with one IFD.

    ``entries`` are ``(tag, type, count, value)``; ``value`` is stored in the entry itself, so
    it is the number for single SHORT/LONG values or an offset into the file otherwise.
    ``data`` follows the IFD; its offset is returned by :func:`tiff_data_offset`.
    """
    entries = sorted(entries)
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, value in entries:
        ifd += struct.pack("<HHII", tag, kind, count, value)
    ifd += struct.pack("<I", 0)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + data


def tiff_data_offset(entry_count):
    return 8 + 2 + 12 * entry_count + 4


SHORT, LONG = 3, 4


def rgb16_tiff(width, height, colour):
    """An uncompressed 16-bit-per-channel RGB TIFF of one colour (Pillow cannot write these)."""
    entry_count = 10
    offset = tiff_data_offset(entry_count)
    bits_offset = offset
    pixels_offset = offset + 6
    pixels = struct.pack("<HHH", *colour) * (width * height)
    entries = [
        (256, LONG, 1, width),
        (257, LONG, 1, height),
        (258, SHORT, 3, bits_offset),
        (259, SHORT, 1, 1),
        (262, SHORT, 1, 2),
        (273, LONG, 1, pixels_offset),
        (277, SHORT, 1, 3),
        (278, LONG, 1, height),
        (279, LONG, 1, len(pixels)),
        (284, SHORT, 1, 1),
    ]
    return tiff_bytes(entries, data=struct.pack("<HHH", 16, 16, 16) + pixels)


def grey_tiff_entries(width, height, pixels_offset, byte_count, strip_count=1):
    return [
        (256, LONG, 1, width),
        (257, LONG, 1, height),
        (258, SHORT, 1, 8),
        (259, SHORT, 1, 1),
        (262, SHORT, 1, 1),
        (273, LONG, strip_count, pixels_offset),
        (277, SHORT, 1, 1),
        (278, LONG, 1, max(1, height // strip_count)),
        (279, LONG, strip_count, byte_count),
    ]


def small_gif():
    return encode(red_square("P", (4, 4)), "GIF")


def small_jpeg():
    return encode(red_square("RGB", (64, 48)), "JPEG", quality=90)


def deterministic_noise(length, seed):
    return random.Random(seed).randbytes(length)


# Empty, truncated and corrupt ----------------------------------------------------------------


@bad_file("empty.jpg")
def empty_file():
    """Zero bytes."""
    return b""


@bad_file("truncated.jpg")
def truncated_jpeg():
    """The first half of a valid baseline JPEG."""
    data = encode(Image.effect_noise((256, 256), 64).convert("RGB"), "JPEG", quality=95)
    return data[: len(data) // 2]


@bad_file("truncated.png")
def truncated_png():
    """A valid PNG cut in the middle of its pixel data."""
    data = encode(Image.effect_noise((256, 256), 64).convert("RGB"), "PNG")
    return data[: len(data) // 2]


@bad_file("truncated_header.png")
def truncated_png_header():
    """The PNG signature and half an IHDR chunk."""
    return png_bytes(16, 16, rows=[bytes(48)] * 16)[:20]


@bad_file("truncated.gif")
def truncated_gif():
    """A GIF header and colour table with no image."""
    return small_gif()[:20]


@bad_file("truncated.webp")
def truncated_webp():
    """The first 40 bytes of a lossy WebP."""
    return encode(Image.effect_noise((128, 128), 64).convert("RGB"), "WEBP")[:40]


@bad_file("soi_eoi_only.jpg")
def jpeg_without_frame():
    """A JPEG start marker straight followed by the end marker."""
    return b"\xff\xd8\xff\xd9"


@bad_file("corrupt.jpg")
def corrupt_jpeg():
    """A JPEG signature followed by random bytes."""
    return b"\xff\xd8\xff\xe0" + deterministic_noise(4000, seed=1)


@bad_file("corrupt.png")
def corrupt_png():
    """A PNG signature followed by random bytes."""
    return PNG_SIGNATURE + deterministic_noise(4000, seed=2)


@bad_file("random.gif")
def random_bytes():
    """8 KB of random bytes with an image extension."""
    return deterministic_noise(8192, seed=3)


@bad_file("text.jpg")
def text_named_jpeg():
    """A plain text file named .jpg."""
    return b"This is not an image, just some text saved with the wrong extension.\n" * 20


@bad_file("page.png")
def html_named_png():
    """An HTML page with a script, named .png."""
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>\n"


@bad_file("bad_crc.png")
def png_with_bad_crc():
    """A valid PNG whose IHDR checksum is wrong."""
    rows = [bytes([255, 0, 0]) * 8] * 8
    data = bytearray(png_bytes(8, 8, rows=rows))
    data[29] ^= 0xFF  # last byte of the IHDR CRC
    return bytes(data)


@bad_file("zero_size.png")
def png_with_zero_dimensions():
    """A PNG whose header says 0×0 pixels."""
    return png_bytes(0, 0, idat=zlib.compress(b""))


@bad_file("zero_width.bmp")
def bmp_with_zero_width():
    """A BMP whose header says it is 0 pixels wide."""
    data = bytearray(encode(red_square("RGB", (4, 4)), "BMP"))
    data[18:22] = struct.pack("<i", 0)
    return bytes(data)


@bad_file("no_icons.ico")
def icon_without_images():
    """An icon directory listing no images."""
    return struct.pack("<HHH", 0, 1, 0)


@bad_file("garbage_layers.psd")
def psd_with_garbage_layer_section():
    """A valid PSD header followed by a layer section of random bytes."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 16, 16, 8, 3)
    return header + struct.pack(">II", 0, 0) + struct.pack(">I", 5000) + deterministic_noise(600, seed=4)


# Decompression bombs and absurd dimensions -------------------------------------------------


@bad_file("bomb.png")
def png_bomb():
    """A 100000×100000 RGBA PNG (40 GB of pixels); the zero stream stops after 4 MiB."""
    return zero_png(100_000, 100_000, channels=4, complete=False)


@bad_file("bomb_below_pillow_hard_limit.png")
def png_bomb_below_pillow_error_limit():
    """A complete 12000×12000 grey PNG in 150 KB: over Pillow's limit, where it only warns."""
    return zero_png(12_000, 12_000)


@bad_file("bomb.gif")
def gif_bomb():
    """A GIF whose logical screen is 65535×65535."""
    data = bytearray(small_gif())
    data[6:10] = struct.pack("<HH", 65535, 65535)
    return bytes(data)


@bad_file("huge_frame.gif")
def gif_frame_larger_than_screen():
    """A 4×4 GIF screen whose first frame claims to be 30000×30000."""
    data = bytearray(small_gif())
    descriptor = data.index(b"\x2c\x00\x00\x00\x00")
    data[descriptor + 5 : descriptor + 9] = struct.pack("<HH", 30_000, 30_000)
    return bytes(data)


@bad_file("bomb.bmp")
def bmp_bomb():
    """A BMP header for 50000×50000 24-bit pixels with 48 bytes of pixel data."""
    data = bytearray(encode(red_square("RGB", (4, 4)), "BMP"))
    data[18:26] = struct.pack("<ii", 50_000, 50_000)
    return bytes(data)


@bad_file("bomb.webp")
def webp_bomb():
    """A lossy WebP whose frame header says 16383×16383."""
    data = bytearray(encode(red_square("RGB", (16, 16)), "WEBP", lossless=False))
    start = data.index(b"\x9d\x01\x2a") + 3
    data[start : start + 4] = struct.pack("<HH", 16383, 16383)
    return bytes(data)


@bad_file("bomb.tif")
def tiff_bomb():
    """A TIFF IFD for a 100000×100000 grey image with one tiny strip."""
    offset = tiff_data_offset(9)
    return tiff_bytes(grey_tiff_entries(100_000, 100_000, offset, 16), data=bytes(16))


@bad_file("huge_strip_count.tif")
def tiff_with_huge_strip_count():
    """A 64×64 TIFF claiming 268 million strips, whose offset arrays lie far past the end of the file."""
    entries = grey_tiff_entries(64, 64, 0x7FFF0000, 0x7FFF0000, strip_count=1 << 28)
    return tiff_bytes(entries, data=bytes(64))


@bad_file("ifd_loop.tif")
def tiff_with_ifd_loop():
    """A TIFF whose IFD lists itself as the next IFD, and whose strip lies past the end of the file."""
    data = bytearray(tiff_bytes(grey_tiff_entries(8, 8, 1_000_000, 64)))
    next_ifd = 8 + 2 + 12 * 9
    data[next_ifd : next_ifd + 4] = struct.pack("<I", 8)
    return bytes(data)


@bad_file("absurd.psd")
def psd_with_absurd_dimensions():
    """A PSD header for 30000×30000 RGB pixels (the format's maximum) with almost no data."""
    header = b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, 30_000, 30_000, 8, 3)
    return header + struct.pack(">III", 0, 0, 0) + struct.pack(">H", 0) + bytes(64)


@bad_file("bomb.ppm")
def pnm_bomb():
    """A binary PPM header for 100000×100000 pixels."""
    return b"P6\n100000 100000\n255\n" + bytes(30)


@bad_file("bomb.pbm")
def pbm_bomb():
    """A plain-text PBM header for 100000×100000 pixels."""
    return b"P1\n100000 100000\n0 1 0 1\n"


@bad_file("bomb.xbm")
def xbm_bomb():
    """An XBM for 100000×100000 pixels with a single byte of data."""
    return b"#define bomb_width 100000\n#define bomb_height 100000\nstatic char bomb_bits[] = {\n0x00,\n};\n"


@bad_file("bomb.xpm")
def xpm_bomb():
    """An XPM for 100000×100000 pixels with a single pixel of data."""
    return b'/* XPM */\nstatic char *bomb[] = {\n"100000 100000 1 1",\n"a c #FF0000",\n"a"\n};\n'


@bad_file("huge_dimensions.jpg")
def jpeg_with_huge_dimensions():
    """A valid JPEG whose frame header is patched to 65500×65500."""
    data = bytearray(small_jpeg())
    frame = data.index(b"\xff\xc0")
    data[frame + 5 : frame + 9] = struct.pack(">HH", 65500, 65500)
    return bytes(data)


@bad_file("png_bomb_inside.ico")
def icon_with_png_bomb():
    """An icon whose directory says 256×256 but whose image is a complete 12000×12000 PNG.

    Pillow decodes icons while opening them and checks the embedded PNG only against its own
    limits, under which this one merely warns.
    """
    png = zero_png(12_000, 12_000)
    directory = struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(png), 22)
    return directory + png


@bad_file("bmp_bomb_inside.ico")
def icon_with_bmp_bomb():
    """An icon whose embedded bitmap header claims 40000×80000 (colour plus mask)."""
    bitmap = struct.pack("<IiiHHIIiiII", 40, 40_000, 80_000, 1, 32, 0, 0, 0, 0, 0, 0) + bytes(256)
    directory = struct.pack("<HHH", 0, 1, 1) + struct.pack("<BBBBHHII", 0, 0, 0, 0, 1, 32, len(bitmap), 22)
    return directory + bitmap


def jpeg_scans(data):
    """``(start, end)`` of each scan (SOS segment plus its entropy-coded data) in a JPEG."""
    scans = []
    position = 2
    while position < len(data) - 3 and data[position + 1] != 0xD9:
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        end = position + 2 + length
        if data[position + 1] == 0xDA:
            while not (data[end] == 0xFF and data[end + 1] != 0x00 and not 0xD0 <= data[end + 1] <= 0xD7):
                end += 1
            scans.append((position, end))
        position = end
    return scans


@bad_file("scan_bomb.jpg")
def progressive_jpeg_scan_bomb():
    """A progressive JPEG with one of its 12-byte refinement scans repeated 5000 times.

    Each scan costs a pass over every coefficient, so decoding time grows with scans × pixels:
    Pillow alone spends about a second on this 70 KB, 1-megapixel file, and the same trick in a
    few MB at a few megapixels stalls a worker for minutes.
    """
    data = encode(Image.new("RGB", (1024, 1024), (200, 30, 30)), "JPEG", progressive=True, quality=90)
    start, end = min(jpeg_scans(data)[1:], key=lambda scan: scan[1] - scan[0])
    return data[:end] + data[start:end] * 5000 + data[end:]


# Formats that must never be decoded --------------------------------------------------------

EPS = b"""%!PS-Adobe-3.0 EPSF-3.0
%%BoundingBox: 0 0 100 100
%%EndComments
newpath 0 0 moveto 100 100 lineto stroke
(%pipe%id) (w) file
showpage
%%EOF
"""


@bad_file("drawing.eps")
def eps_file():
    """An EPS file (Pillow would hand it to Ghostscript, a full PostScript interpreter)."""
    return EPS


@bad_file("drawing.jpg")
def eps_named_jpeg():
    """An EPS file named .jpg."""
    return EPS


@bad_file("binary_eps.png")
def binary_eps_named_png():
    """A DOS-binary EPS header (the other EPS signature), named .png."""
    header = b"\xc5\xd0\xd3\xc6" + struct.pack("<IIIIII", 30, len(EPS), 0, 0, 0, 0) + b"\xff\xff"
    return header + EPS


@bad_file("document.png")
def pdf_named_png():
    """The start of a PDF document, named .png."""
    return b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@bad_file("vector.png")
def svg_named_png():
    """An SVG with a script, named .png."""
    return b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n'


# Polyglots ---------------------------------------------------------------------------------


@bad_file(
    "jpeg_then_zip.jpg",
    decodes_safely="A complete JPEG with a ZIP archive appended: the decoder stops at the JPEG's end marker.",
)
def jpeg_zip_polyglot():
    """A valid JPEG followed by a ZIP archive (readable by unzip as well)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zip_file:
        zip_file.writestr("payload.html", "<script>alert(1)</script>")
    return small_jpeg() + archive.getvalue()


@bad_file(
    "gif_with_html.gif",
    decodes_safely="A valid GIF carrying HTML in a comment block: the comment is never interpreted.",
)
def gif_html_polyglot():
    """A valid GIF whose comment extension holds an HTML page with a script."""
    data = small_gif()
    html = b"<html><script>alert(document.domain)</script></html>"
    comment = b"\x21\xfe" + bytes([len(html)]) + html + b"\x00"
    return data[:-1] + comment + data[-1:]


@bad_file("html_then_gif.gif")
def html_gif_polyglot():
    """An HTML page followed by a GIF: browsers sniff HTML, image decoders find no signature."""
    return b"<html><script>alert(1)</script></html>\n" + small_gif()


@bad_file(
    "corrupt_exif.jpg",
    decodes_safely="A valid JPEG whose EXIF block is garbage: the orientation is ignored, the pixels are fine.",
)
def jpeg_with_corrupt_exif():
    """A valid JPEG with an APP1 EXIF segment of random bytes."""
    exif = b"Exif\x00\x00MM\x00\x2a" + deterministic_noise(200, seed=5)
    segment = b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
    data = small_jpeg()
    return data[:2] + segment + data[2:]


@bad_file(
    "many_frames.gif",
    decodes_safely="A valid 3000-frame GIF: only the first frame is decoded, the others are never walked.",
)
def gif_with_many_frames():
    """A 1×1 GIF with 3000 frames."""
    frame = b"\x21\xf9\x04\x00\x00\x00\x00\x00" + b"\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00"
    header = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0x80, 0, 0) + b"\xff\x00\x00\x00\x00\x00"
    return header + frame * 3000 + b";"


@bad_file("text_bomb.png")
def png_with_compressed_text_bomb():
    """A small valid PNG with a zTXt chunk that inflates to 256 MB.

    Pillow stops inflating text at ``PngImagePlugin.MAX_TEXT_CHUNK`` (1 MB) and refuses the file.
    """
    text = b"Comment\x00\x00" + zero_zlib_stream(256 << 20)
    return png_bytes(8, 8, rows=[bytes(24)] * 8, extra_chunks=[png_chunk(b"zTXt", text)])


@bad_file(
    "some_chunks.png",
    decodes_safely="Unknown ancillary chunks are skipped by design; a few thousand cost Pillow a few milliseconds.",
)
def png_with_some_unknown_chunks():
    """A valid PNG with 2000 tiny unknown ancillary chunks before its pixel data."""
    chunk = png_chunk(b"zzZz", b"x" * 4)
    return png_bytes(8, 8, rows=[bytes(24)] * 8, extra_chunks=[chunk] * 2000)


@bad_file("many_chunks.png")
def png_with_many_chunks():
    """A PNG with 60000 empty ancillary chunks before its pixel data.

    Pillow spends about 5 µs on each chunk in Python: 0.3 s here, most of a minute for a
    100 MB file of them.
    """
    chunk = png_chunk(b"zzZz", b"")
    return png_bytes(8, 8, rows=[bytes(24)] * 8, extra_chunks=[chunk] * 60_000)
