"""Text extraction from real files of every supported format, made here, and from hostile ones.

Nothing here touches the database. PDFs are written by a tiny hand-rolled PDF writer (valid
xref, Helvetica text); DOC and PPT files are minimal but genuine OLE2 compound files holding a
Word 97 FIB + text, or PowerPoint records, which is what catdoc/catppt parse. No Office suite
is needed (LibreOffice is far too big to install for tests).
"""

import io
import random
import shutil
import struct
import time
import zipfile
import zlib

import pytest

from wagtail_smarttags.ml.errors import UnreadableAssetError
from wagtail_smarttags.ml.text import (
    ExtractionLimits,
    ExtractionTimeout,
    UnsupportedFormatError,
    UnsupportedHereError,
    extract_text,
    supported_formats,
)

from .. import baddocuments

FRENCH = (
    "La façade de l'hôtel a été rénovée l'été dernier. Les élèves déjeunent à la cantine "
    "et préfèrent la crème brûlée aux pâtisseries. Où est le château ? Voilà une idée géniale."
)
ENGLISH = "Solar panels on school roofs reduce energy bills. Rooftop gardens cool the classrooms in summer."

needs_catdoc = pytest.mark.skipif(
    not (shutil.which("catdoc") and shutil.which("catppt")), reason="the Debian package catdoc is not installed"
)


# --- Real files, built by hand ----------------------------------------------------------------


def _pdf_string(text):
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def make_pdf(pages, *, encrypt=False):
    """A small valid PDF: one Helvetica text page per item of ``pages`` (each a list of lines)."""
    objects = {1: "<< /Type /Catalog /Pages 2 0 R >>", 3: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    kids = []
    for index, lines in enumerate(pages):
        page_number, content_number = 4 + 2 * index, 5 + 2 * index
        kids.append(f"{page_number} 0 R")
        commands = "BT /F1 12 Tf 14 TL 72 720 Td " + " ".join(f"{_pdf_string(line)} '" for line in lines) + " ET"
        objects[page_number] = (
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_number} 0 R >>"
        )
        objects[content_number] = f"<< /Length {len(commands.encode('latin-1'))} >>\nstream\n{commands}\nendstream"
    objects[2] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    trailer_extra = ""
    if encrypt:
        encrypt_number = max(objects) + 1
        # /U does not match the empty user password, so a reader must ask for a password.
        objects[encrypt_number] = f"<< /Filter /Standard /V 1 /R 2 /O <{'ab' * 32}> /U <{'cd' * 32}> /P -4 >>"
        trailer_extra = f" /Encrypt {encrypt_number} 0 R /ID [<{'01' * 16}> <{'01' * 16}>]"
    output = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(output)
        output += f"{number} 0 obj\n{objects[number]}\nendobj\n".encode("latin-1")
    xref_at = len(output)
    count = max(objects) + 1
    output += f"xref\n0 {count}\n0000000000 65535 f \n".encode()
    for number in range(1, count):
        output += f"{offsets[number]:010d} 00000 n \n".encode()
    output += f"trailer\n<< /Size {count} /Root 1 0 R{trailer_extra} >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(output)


_SECTOR = 512
_FREE, _END, _FAT_SECTOR, _NO_STREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF


def compound_file(stream_name, payload):
    """A minimal OLE2 compound file (version 3) holding one stream of at least 4096 bytes."""
    payload = payload.ljust(max(4096, len(payload)), b"\x00")  # >= 4096: a regular stream, no mini stream
    payload += b"\x00" * (-len(payload) % _SECTOR)
    data_sectors = len(payload) // _SECTOR
    fat = [_FAT_SECTOR, _END] + [2 + index + 1 for index in range(data_sectors - 1)] + [_END]
    fat += [_FREE] * (128 - len(fat))
    header = bytearray(_SECTOR)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 0x2C, 1, 1, 0, 4096, _END, 0, _END, 0)
    for index in range(1, 109):
        struct.pack_into("<I", header, 0x4C + 4 * index, _FREE)

    def entry(name, kind, child, start, size):
        raw = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        raw[0 : len(encoded)] = encoded
        struct.pack_into("<HBB", raw, 0x40, len(encoded), kind, 1)
        struct.pack_into("<III", raw, 0x44, _NO_STREAM, _NO_STREAM, child)
        struct.pack_into("<II", raw, 0x74, start, size)
        return bytes(raw)

    directory = entry("Root Entry", 5, 1, _END, 0) + entry(stream_name, 2, _NO_STREAM, 2, len(payload)) + bytes(256)
    return bytes(header) + struct.pack("<128I", *fat) + directory + payload


def make_doc(text):
    """A Word 97 document: FIB (magic, nFib, fcMin, fcMac) followed by cp1252 text with \\r paragraphs."""
    body = text.replace("\n", "\r").encode("cp1252") + b"\r"
    fib = bytearray(1024)
    struct.pack_into("<HH", fib, 0, 0xA5EC, 0xC1)
    struct.pack_into("<II", fib, 0x18, len(fib), len(fib) + len(body))
    return compound_file("WordDocument", bytes(fib) + body)


def _record(kind, body, version=0):
    return struct.pack("<HHI", version, kind, len(body)) + body


def make_ppt(slides):
    """A PowerPoint 97 stream: Document > SlideListWithText > (SlidePersist, TextHeader, TextChars)*."""
    atoms = b"".join(
        _record(0x03F3, bytes(20)) + _record(0x0F9F, struct.pack("<I", 1)) + _record(0x0FA0, text.encode("utf-16-le"))
        for text in slides
    )
    return compound_file("PowerPoint Document", _record(0x03E8, _record(0x0FF0, atoms, version=0xF), version=0xF))


def make_docx(paragraphs, table=None):
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for row, values in zip(grid.rows, table, strict=True):
            for cell, value in zip(row.cells, values, strict=True):
                cell.text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pptx(slides, notes=None):
    import pptx

    presentation = pptx.Presentation()
    for index, (title, body) in enumerate(slides):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
        if notes and index < len(notes):
            slide.notes_slide.notes_text_frame.text = notes[index]
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def write(tmp_path):
    def write(name, data):
        path = tmp_path / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        return path

    return write


# --- Every format -------------------------------------------------------------------------------


def test_every_brief_format_is_supported():
    assert {"csv", "doc", "docx", "html", "pdf", "ppt", "pptx", "rtf", "srt", "txt", "vtt"} <= set(supported_formats())


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-be", "cp1252", "latin-1"])
def test_txt_encodings_are_detected(write, encoding):
    text = FRENCH * 3
    if encoding == "utf-16-be":
        data = "\ufeff".encode("utf-16-be") + text.encode("utf-16-be")
    else:
        data = text.encode(encoding)
    result = extract_text(write("note.txt", data))
    assert result.format == "txt"
    assert "façade de l'hôtel" in result.text and "crème brûlée" in result.text
    assert result.language == "fr"
    assert not result.truncated


def test_txt_in_cp1252_keeps_windows_only_characters(write):
    text = "Le prix est de 20 € – “tout compris” pour l'été. " * 20
    result = extract_text(write("prix.txt", text.encode("cp1252")))
    assert "20 € – “tout compris”" in result.text


def test_txt_character_limit_truncates(write):
    result = extract_text(write("long.txt", ENGLISH * 100), limits=ExtractionLimits(max_chars=500))
    assert len(result.text) <= 500
    assert result.truncated and result.truncated_by == "max_chars"


def test_csv_cells_become_separate_phrases(write):
    data = "produit;catégorie;prix\nCrème solaire;Santé;12,50\nThé vert;Épicerie;4,20\n" * 5
    result = extract_text(write("stock.csv", data.encode("cp1252")))
    assert result.format == "csv"
    assert "Crème solaire\tSanté\t12,50" in result.text


def test_200_mb_csv_is_streamed_up_to_the_character_limit(tmp_path):
    path = tmp_path / "huge.csv"
    block = ("id,name,description\n" + "42,Wind turbine,Offshore wind turbine blade inspection\n" * 17_000).encode()
    with path.open("wb") as handle:
        while handle.tell() < 200 * 1024 * 1024:
            handle.write(block)
    started = time.monotonic()
    result = extract_text(path, limits=ExtractionLimits(max_chars=200_000))
    assert time.monotonic() - started < 10
    assert result.truncated_by == "max_chars"
    assert len(result.text) <= 200_000
    assert "Offshore wind turbine blade inspection" in result.text


def test_srt_in_utf16_loses_numbers_and_timings(write):
    srt = (
        "1\n00:00:01,000 --> 00:00:03,500\n<i>Bonjour</i> à tous.\n\n"
        "2\n00:00:04,000 --> 00:00:06,000\nLa forêt est belle.\n"
    )
    result = extract_text(write("film.srt", srt.encode("utf-16")))
    assert result.text == "Bonjour à tous.\nLa forêt est belle."
    assert result.encoding.lower().replace("_", "-").startswith("utf-16")


def test_vtt_drops_header_notes_cue_ids_and_rolling_repeats(write):
    vtt = (
        "WEBVTT - lecture\n\nNOTE recorded live\n\nintro\n00:00.000 --> 00:02.000 align:start\n"
        "<v Ann>Glaciers are retreating\n\n00:02.000 --> 00:04.000\nGlaciers are retreating\n"
        "fast in the Alps.\n"
    )
    result = extract_text(write("talk.vtt", vtt))
    assert result.text == "Glaciers are retreating\nfast in the Alps."


def test_html_uses_declared_charset_and_drops_scripts(write):
    html = (
        '<html><head><meta charset="iso-8859-1"><title>Café des arts</title>'
        "<style>body{color:red}</style><script>var hidden = 1;</script></head>"
        "<body><h1>Crème brûlée</h1><p>Recette de la crème brûlée à la vanille.</p></body></html>"
    )
    result = extract_text(write("page.html", html.encode("latin-1")))
    assert result.format == "html"
    assert result.text.splitlines()[0] == "Café des arts"
    assert "Recette de la crème brûlée à la vanille." in result.text
    assert "hidden" not in result.text and "color" not in result.text


def test_rtf_with_code_page_escapes_and_unicode(write):
    rtf = (
        r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0 Times;}}\f0\pard Caf\'e9 cr\'e8me "
        r"\u8364? prices\par Second paragraph\par}"
    )
    result = extract_text(write("menu.rtf", rtf))
    assert result.format == "rtf"
    assert "Café crème € prices" in result.text
    assert "Second paragraph" in result.text


def test_docx_paragraphs_and_tables_in_order(write):
    data = make_docx(["Quarterly report", ENGLISH], table=[["Region", "Sales"], ["Nord", "1 200 €"]])
    result = extract_text(write("report.docx", data))
    assert result.format == "docx"
    assert result.text.splitlines()[:2] == ["Quarterly report", ENGLISH]
    assert "Nord\t1 200 €" in result.text


def test_pptx_slides_and_notes(write):
    data = make_pptx([("Wind energy", "Offshore farms"), ("Costs", "Falling since 2010")], notes=["Speaker notes"])
    result = extract_text(write("deck.pptx", data))
    assert result.format == "pptx" and result.pages == 2
    for expected in ("Wind energy", "Offshore farms", "Speaker notes", "Falling since 2010"):
        assert expected in result.text


def test_pptx_slide_limit(write):
    data = make_pptx([(f"Slide {index}", "body") for index in range(5)])
    result = extract_text(write("deck.pptx", data), limits=ExtractionLimits(max_pages=2))
    assert result.pages == 2 and result.truncated_by == "max_pages"
    assert "Slide 1" in result.text and "Slide 2" not in result.text


def test_pdf_text_from_every_page(write):
    result = extract_text(write("flyer.pdf", make_pdf([["Solar panels on school roofs"], ["Second page"]])))
    assert result.format == "pdf" and result.pages == 2
    assert "Solar panels on school roofs" in result.text and "Second page" in result.text


def test_1000_page_pdf_stops_at_the_page_limit_and_keeps_what_was_read(write):
    path = write("tome.pdf", make_pdf([[f"Page {index} about wind turbines"] for index in range(1000)]))
    started = time.monotonic()
    result = extract_text(path, limits=ExtractionLimits(max_pages=50))
    assert time.monotonic() - started < 10
    assert result.truncated and result.truncated_by == "max_pages"
    assert result.pages == 50
    assert "Page 49 about wind turbines" in result.text and "Page 50 " not in result.text


def test_file_object_input_with_filename():
    result = extract_text(io.BytesIO(make_pdf([["From memory"]])), "upload.pdf")
    assert result.text == "From memory"


def test_format_is_sniffed_when_the_extension_lies(write):
    assert extract_text(write("actually-a-pdf.txt", make_pdf([["Sniffed"]]))).format == "pdf"
    assert extract_text(write("actually-a-docx.doc", make_docx(["Sniffed docx"]))).format == "docx"


@needs_catdoc
def test_doc_through_catdoc(write):
    result = extract_text(write("minutes.doc", make_doc("Sustainable urban gardening.\nCafé owners grow herbs.")))
    assert result.format == "doc"
    assert result.text == "Sustainable urban gardening.\nCafé owners grow herbs."


@needs_catdoc
def test_ppt_through_catppt(write):
    result = extract_text(write("pitch.ppt", make_ppt(["Quarterly sales review", "Renewable façades"])))
    assert result.format == "ppt"
    assert "Quarterly sales review" in result.text and "Renewable façades" in result.text


@pytest.mark.parametrize(("name", "data"), [("minutes.doc", make_doc("Hello")), ("pitch.ppt", make_ppt(["Hello"]))])
def test_legacy_formats_without_converter_are_unsupported_here(write, monkeypatch, tmp_path, name, data):
    monkeypatch.setenv("PATH", str(tmp_path))  # as on a machine without the catdoc package
    with pytest.raises(UnsupportedHereError, match="unsupported here.*not installed.*catdoc"):
        extract_text(write(name, data))


# --- Hostile and broken input: each refused quickly with a readable message ----------------------


def _refused(path, match, limits=None, error=UnreadableAssetError):
    started = time.monotonic()
    with pytest.raises(error, match=match):
        extract_text(path, limits=limits)
    assert time.monotonic() - started < 5


def test_encrypted_pdf(write):
    _refused(write("secret.pdf", make_pdf([["secret"]], encrypt=True)), "encrypted PDF")


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4\n1 0 obj << /Type /Catalog garbage",
        make_pdf([["cut short"]])[:200],
        b"%PDF-1.7\n" + bytes(random.Random(1).randrange(256) for _ in range(4000)),
    ],
    ids=["garbage", "truncated", "random-body"],
)
def test_malformed_pdf(write, data):
    _refused(write("broken.pdf", data), "malformed PDF|no extractable text")


def test_pdf_extension_with_other_content(write):
    _refused(write("fake.pdf", b"this is not a pdf at all"), "not a valid PDF")


def test_docx_zip_bomb_declared_size(write):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\x00" * (20 * 1024 * 1024))
    path = write("bomb.docx", buffer.getvalue())
    assert path.stat().st_size < 100_000
    _refused(path, "zip bomb", limits=ExtractionLimits(max_uncompressed_bytes=10 * 1024 * 1024))


def test_pptx_zip_bomb_actual_size_when_declared_size_lies(write):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ppt/presentation.xml", b"\x00" * (3 * 1024 * 1024))
    data = bytearray(buffer.getvalue())
    # Rewrite the declared uncompressed size (local header and central directory) to 1 KB.
    true_size = struct.pack("<I", 3 * 1024 * 1024)
    for offset in [index for index in range(len(data) - 3) if data[index : index + 4] == true_size]:
        data[offset : offset + 4] = struct.pack("<I", 1024)
    limits = ExtractionLimits(max_uncompressed_bytes=2 * 1024 * 1024)
    _refused(write("bomb.pptx", bytes(data)), "zip bomb|corrupt zip member", limits=limits)


def test_docx_that_is_not_a_zip(write):
    _refused(write("broken.docx", b"PK\x03\x04" + b"\x00" * 100), "not a valid Office Open XML|corrupt")


def test_binary_file_named_txt(write):
    noise = bytes(random.Random(7).randrange(256) for _ in range(50_000))
    _refused(write("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + noise), "binary data")


@pytest.mark.parametrize("name", ["empty.txt", "empty.pdf", "empty.docx", "empty.csv", "empty.doc"])
def test_empty_file(write, name):
    _refused(write(name, b""), "is empty")


def test_whitespace_only_text(write):
    _refused(write("blank.txt", "  \n\t \n"), "no extractable text")


def test_whole_file_formats_over_the_size_limit(write):
    path = write("big.pdf", make_pdf([["x" * 2000]] * 20))
    _refused(path, "over the .*-byte limit", limits=ExtractionLimits(max_file_bytes=10_000))


def test_time_limit(write):
    path = write("slow.pdf", make_pdf([["text"]] * 20))
    _refused(path, "longer than", limits=ExtractionLimits(max_seconds=0), error=ExtractionTimeout)


def test_unknown_extension(write):
    _refused(write("drawing.dwg", b"AC1032 binary"), "does not support '.dwg'", error=UnsupportedFormatError)


def test_missing_file(tmp_path):
    _refused(tmp_path / "nowhere.txt", "Cannot open")


# --- Limits checked before and during the work ---------------------------------------------------


def test_a_zip_with_too_many_members_is_refused_from_its_end_record(write):
    path = write("many.docx", baddocuments.zip_with_members(20_000))
    _refused(path, r"has 20,000 zip members, more than 10,000")


def test_a_zip_whose_end_record_understates_its_members_is_refused_while_counting(write):
    # The end record says 5; the directory holds 30,000 entries: counting stops at the limit.
    path = write("lying.docx", baddocuments.zip_with_members(30_000, declared_count=5))
    _refused(path, r"has more than 10,000 zip members")


def test_a_zip_directory_too_large_for_its_members_is_refused_unread(write):
    path = write("wide.docx", baddocuments.zip_with_members(3_000, declared_count=5))
    _refused(path, r"zip directory of [\d,]+ bytes, too large for 100 members", ExtractionLimits(max_zip_members=100))


def test_an_office_file_over_the_size_limit_is_refused_before_its_directory_is_read(write):
    path = write("big.pptx", baddocuments.zip_with_members(10, prefix="ppt/") + b"\0" * 200_000)
    _refused(path, r"over the 100,000-byte limit for Office files", ExtractionLimits(max_file_bytes=100_000))


def test_declared_sizes_are_added_up_from_the_directory(write):
    from wagtail_smarttags.ml.text.extractors.zipdir import read_zip_directory

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>" * 1000)
        archive.writestr("[Content_Types].xml", b"<Types/>")
    directory = read_zip_directory(io.BytesIO(buffer.getvalue()), len(buffer.getvalue()), ExtractionLimits())
    assert directory.members == 2
    assert directory.declared_bytes == 13 * 1000 + 8
    assert directory.top_level == {"word", "[Content_Types].xml"}


def test_a_docx_of_one_enormous_line_is_refused_without_inflating_it_whole(write):
    path = write("line.docx", baddocuments.docx_of_one_line(30 * 1024 * 1024))
    _refused(path, r"malformed DOCX|zip bomb")


def test_a_pdf_flate_bomb_is_stopped_at_the_stream_limit(write):
    path = write("bomb.pdf", baddocuments.pdf_flate_bomb(inflated=256 * 1024 * 1024))
    assert path.stat().st_size < 300_000
    _refused(path, r"stream inflates to more than 67,108,864 bytes")


def test_a_pdf_object_stream_bomb_is_stopped_at_the_stream_limit(write):
    path = write("objstm.pdf", baddocuments.pdf_object_stream_bomb(inflated=256 * 1024 * 1024))
    _refused(path, r"stream inflates to more than 4,194,304 bytes", ExtractionLimits(max_stream_bytes=4 * 1024 * 1024))


def test_the_stream_limit_applies_only_inside_extraction():
    import pdfminer.pdftypes

    extract_text(io.BytesIO(make_pdf([["hello"]])), "hello.pdf")
    data = b"x" * (5 * 1024 * 1024)
    assert pdfminer.pdftypes.zlib.decompress(zlib.compress(data)) == data


def test_a_deeply_nested_pdf_is_read_or_refused_with_a_message(write):
    path = write("nested.pdf", baddocuments.pdf_deeply_nested(100_000))
    try:
        result = extract_text(path)
    except UnreadableAssetError as error:
        assert "PDF" in str(error)
    else:
        assert "deep" in result.text


def test_html_is_parsed_a_chunk_at_a_time_under_the_deadline(write):
    path = write("nested.html", baddocuments.html_nested(3_000_000))
    started = time.monotonic()
    with pytest.raises(ExtractionTimeout, match="longer than 0.2 s"):
        extract_text(path, limits=ExtractionLimits(max_seconds=0.2))
    assert time.monotonic() - started < 1


def test_large_html_stops_at_the_character_limit(write):
    path = write("big.html", b"<html><body>" + b"<div><p>word soup here</p></div>" * 400_000 + b"</body></html>")
    result = extract_text(path, limits=ExtractionLimits(max_chars=10_000))
    assert result.truncated_by == "max_chars"
    assert len(result.text) <= 10_000
    assert result.text.startswith("word soup here\nword soup here")
