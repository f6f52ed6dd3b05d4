"""Hostile documents, built here: flate and object-stream bombs, nested PDF objects, zip archives with
too many members or lying directories, Office files of one enormous line, markup floods.

The tests use small sizes; ``bench/hostile.py`` builds the same files at full size.
"""

import io
import struct
import zipfile
import zlib

MiB = 1024 * 1024


def deflated_zeros(size, fill=b" "):
    """``size`` bytes of ``fill`` deflated, produced a MiB at a time (a GiB costs a second, not a GiB)."""
    compressor = zlib.compressobj(9)
    block = fill * MiB
    parts, left = [], size
    while left > 0:
        parts.append(compressor.compress(block[: min(left, MiB)]))
        left -= MiB
    parts.append(compressor.flush())
    return b"".join(parts)


def pdf_file(objects, *, root=1, xref_stream=None):
    """A PDF of ``{number: bytes}`` objects with a classic xref table (or, given ``xref_stream``, a
    function of the object offsets that returns the number and bytes of a cross-reference stream)."""
    output = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(output)
        output += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref_at = len(output)
    if xref_stream:
        number, body = xref_stream(offsets, xref_at)
        output += b"%d 0 obj\n" % number + body + b"\nendobj\n"
        output += b"startxref\n%d\n%%%%EOF\n" % xref_at
        return bytes(output)
    count = max(objects) + 1
    output += b"xref\n0 %d\n0000000000 65535 f \n" % count
    for number in range(1, count):
        output += b"%010d 00000 n \n" % offsets.get(number, 0)
    output += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, root, xref_at)
    return bytes(output)


def _stream(data, dictionary=b""):
    return b"<< /Length %d %s>>\nstream\n" % (len(data), dictionary) + data + b"\nendstream"


def _page_objects(contents_ref=b"4 0 R"):
    return {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        3: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents " + contents_ref + b" >>",
        5: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }


def pdf_flate_bomb(inflated=1024 * MiB):
    """One page whose content stream inflates to ``inflated`` bytes of spaces."""
    objects = _page_objects()
    objects[4] = _stream(deflated_zeros(inflated), b"/Filter /FlateDecode ")
    return pdf_file(objects)


def pdf_object_stream_bomb(inflated=1024 * MiB):
    """The page tree lives in an object stream that inflates to ``inflated`` bytes: pdfminer inflates
    the whole object stream to find it."""
    pages = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
    header = b"2 0 "
    compressor = zlib.compressobj(9)
    body = compressor.compress(header + pages + b"\n")
    block, left = b" " * MiB, inflated
    while left > 0:
        body += compressor.compress(block[: min(left, MiB)])
        left -= MiB
    body += compressor.flush()
    objects = _page_objects()
    del objects[2]
    objects[4] = _stream(b"BT /F1 12 Tf 72 720 Td (hello) Tj ET")
    objects[6] = _stream(body, b"/Type /ObjStm /N 1 /First %d /Filter /FlateDecode " % len(header))

    def xref_stream(offsets, xref_at):
        number = 7
        rows = [b"\x00" + struct.pack(">IH", 0, 65535)]
        for index in range(1, number + 1):
            if index == 2:
                rows.append(b"\x02" + struct.pack(">IH", 6, 0))
            elif index == number:
                rows.append(b"\x01" + struct.pack(">IH", xref_at, 0))
            else:
                rows.append(b"\x01" + struct.pack(">IH", offsets[index], 0))
        data = b"".join(rows)
        return number, _stream(data, b"/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R " % (number + 1))

    return pdf_file(objects, xref_stream=xref_stream)


def pdf_deeply_nested(depth=200_000):
    """A page whose resources hold an array nested ``depth`` levels deep."""
    objects = _page_objects()
    objects[3] = objects[3].replace(b"/Resources <<", b"/Resources << /Nested " + b"[" * depth + b"]" * depth)
    objects[4] = _stream(b"BT /F1 12 Tf 72 720 Td (deep) Tj ET")
    return pdf_file(objects)


def zip_with_members(count, *, prefix="word/", declared_count=None):
    """A zip of ``count`` empty stored members, written directly (zipfile would take minutes for
    millions); ``declared_count`` is what the end record claims."""
    local, directory = bytearray(), bytearray()
    for index in range(count):
        name = f"{prefix}{index:x}".encode()
        offset = len(local)
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0) + name
        directory += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, 0, 0, 0, len(name), 0, 0, 0, 0, 0,
                                 offset) + name  # fmt: skip
    declared = min(count if declared_count is None else declared_count, 0xFFFF)
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, declared, declared, len(directory), len(local), 0)
    return bytes(local + directory + end)


def docx_of_one_line(size):
    """A DOCX whose document.xml is one run of ``size`` bytes of text on a single line."""
    document = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
    )
    closing = b"</w:t></w:r></w:p></w:body></w:document>"
    return _office_zip(
        {
            "[Content_Types].xml": _CONTENT_TYPES,
            "_rels/.rels": _RELS % b"officeDocument/2006/relationships/officeDocument\" Target=\"word/document.xml",
        },
        ("word/document.xml", document, size, closing),
    )


_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    b'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/%s"/></Relationships>'
)


def _office_zip(small_members, large_member):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in small_members.items():
            archive.writestr(name, data)
        name, opening, size, closing = large_member
        with archive.open(name, "w", force_zip64=True) as member:
            member.write(opening)
            block, left = b"x" * MiB, size
            while left > 0:
                member.write(block[: min(left, MiB)])
                left -= MiB
            member.write(closing)
    return buffer.getvalue()


def pptx_with_slides(count):
    """A PPTX package listing ``count`` slides, each its own member."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        ids = b"".join(b'<p:sldId id="%d" r:id="rId%d"/>' % (256 + index, index) for index in range(count))
        presentation = b"<p:presentation><p:sldIdLst>" + ids + b"</p:sldIdLst></p:presentation>"
        archive.writestr("ppt/presentation.xml", presentation)
        for index in range(count):
            archive.writestr(f"ppt/slides/slide{index}.xml", b"<p:sld/>")
    return buffer.getvalue()


def rtf_flood(size):
    """``size`` bytes of nested RTF groups and control words around very little text."""
    unit = b"{\\b\\i\\ul\\fs24 x}"
    return b"{\\rtf1\\ansi " + unit * (size // len(unit)) + b"}"


def srt_flood(size):
    cue = b"1\n00:00:01,000 --> 00:00:02,000\nflood\n\n"
    return cue * (size // len(cue))


def html_nested(depth):
    return b"<html><body>" + b"<div>" * depth + b"deep" + b"</div>" * depth + b"</body></html>"
