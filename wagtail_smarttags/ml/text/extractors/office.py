"""Office Open XML: DOCX (python-docx) and PPTX (python-pptx), behind a zip bomb check.

Both formats are zip archives, and python-docx / python-pptx inflate their XML parts whole into
memory. Before handing the file over, :func:`check_zip` reads the archive's directory in a stream
(``zipdir``), refusing too many members or more than ``max_uncompressed_bytes`` declared, and then
inflates every member in a streaming pass that stops as soon as the *actual* total passes the
limit, since declared sizes can lie.
"""

import zipfile

from ...errors import UnreadableAssetError, gettext_noop
from .base import Extracted, TextBuilder, display_name, register
from .zipdir import read_zip_directory

INFLATE_CHUNK = 1024 * 1024


def check_zip(source, limits, deadline):
    """Refuse zip bombs and broken archives before any parser inflates them."""
    name = display_name(source.filename)
    read_zip_directory(source.file, source.size, limits, name)
    try:
        source.rewind()
        archive = zipfile.ZipFile(source.file)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise UnreadableAssetError(
            gettext_noop("%(name)s is not a valid Office Open XML (zip) file: %(error)s"), name=name, error=error
        )
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_zip_members:
            raise UnreadableAssetError(
                gettext_noop("%(name)s has %(members)s zip members, more than %(limit)s."),
                name=name,
                members=str(len(members)),
                limit=str(limits.max_zip_members),
            )
        declared = sum(member.file_size for member in members)
        if declared > limits.max_uncompressed_bytes:
            raise UnreadableAssetError(
                gettext_noop(
                    "%(name)s declares %(declared)s uncompressed bytes, over the limit of %(limit)s: "
                    "refused as a possible zip bomb."
                ),
                name=name,
                declared=str(declared),
                limit=str(limits.max_uncompressed_bytes),
            )
        inflated = 0
        for member in members:
            try:
                with archive.open(member) as stream:
                    while chunk := stream.read(INFLATE_CHUNK):
                        inflated += len(chunk)
                        if inflated > limits.max_uncompressed_bytes:
                            raise UnreadableAssetError(
                                gettext_noop("%(name)s inflates to more than %(limit)s bytes: refused as a zip bomb."),
                                name=name,
                                limit=str(limits.max_uncompressed_bytes),
                            )
                        deadline.check()
            except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
                # NotImplementedError: an unsupported compression method; RuntimeError-like bad CRCs
                # surface as BadZipFile.
                raise UnreadableAssetError(
                    gettext_noop("%(name)s has a corrupt zip member %(member)s: %(error)s"),
                    name=name,
                    member=repr(member.filename),
                    error=error,
                )
            except RuntimeError as error:  # encrypted members
                raise UnreadableAssetError(
                    gettext_noop("%(name)s is encrypted or password protected: %(error)s"), name=name, error=error
                )
    source.rewind()


def _docx_blocks(document):
    """Paragraph and table-cell texts in document order (python-docx lists them separately)."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield Paragraph(child, document).text
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells = []
                for cell in row.cells:
                    if cell.text.strip() and (not cells or cells[-1] != cell.text.strip()):
                        cells.append(cell.text.strip())  # merged cells repeat their text
                yield "\t".join(cells)


def _open_package(opener, source, not_a_package_error, unreadable, malformed):
    """Open an Office package, turning every way it can be broken into one readable error.

    ``unreadable`` and ``malformed`` are the messages (marked with ``gettext_noop``) for the package's kind.
    """
    name = display_name(source.filename)
    try:
        return opener(source.file)
    except (not_a_package_error, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise UnreadableAssetError(unreadable, name=name, error=error)
    except MemoryError:
        raise  # the reader's memory limit: reported as such, not as a broken file
    except Exception as error:  # lxml syntax errors and the libraries' internals: all mean a broken file
        raise UnreadableAssetError(malformed, name=name, error=error)


@register("docx", extensions=("docx", "docm", "dotx"), whole_file=True)
def extract_docx(source, limits, deadline):
    check_zip(source, limits, deadline)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    document = _open_package(
        docx.Document,
        source,
        PackageNotFoundError,
        gettext_noop("%(name)s is not a readable DOCX document: %(error)s"),
        gettext_noop("%(name)s is a malformed DOCX document: %(error)s"),
    )
    builder = TextBuilder(limits.max_chars)
    truncated_by = None
    for section in document.sections[:1]:
        # The first header often holds the title or organisation; later ones repeat it.
        for paragraph in section.header.paragraphs:
            builder.add(paragraph.text.strip())
    for block in _docx_blocks(document):
        deadline.check()
        if block.strip() and not builder.add(block.strip()):
            truncated_by = "max_chars"
            break
    return Extracted(builder.text(), truncated_by=truncated_by)


def _shape_texts(shapes):
    for shape in shapes:
        if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            yield shape.text_frame.text
        if getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                yield "\t".join(cell.text for cell in row.cells if cell.text.strip())
        if hasattr(shape, "shapes"):  # group shapes
            yield from _shape_texts(shape.shapes)


@register("pptx", extensions=("pptx", "pptm", "ppsx", "potx"), whole_file=True)
def extract_pptx(source, limits, deadline):
    check_zip(source, limits, deadline)
    import pptx
    from pptx.exc import PackageNotFoundError

    presentation = _open_package(
        pptx.Presentation,
        source,
        PackageNotFoundError,
        gettext_noop("%(name)s is not a readable PPTX presentation: %(error)s"),
        gettext_noop("%(name)s is a malformed PPTX presentation: %(error)s"),
    )
    builder = TextBuilder(limits.max_chars)
    truncated_by = None
    slides_read = 0
    for slide in presentation.slides:
        if slides_read >= limits.max_pages:
            truncated_by = "max_pages"
            break
        deadline.check()
        slides_read += 1
        texts = list(_shape_texts(slide.shapes))
        if slide.has_notes_slide:
            texts.append(slide.notes_slide.notes_text_frame.text if slide.notes_slide.notes_text_frame else "")
        if not all(builder.add(text.strip()) for text in texts if text and text.strip()):
            truncated_by = "max_chars"
            break
    return Extracted(builder.text(), truncated_by=truncated_by, pages=slides_read)
