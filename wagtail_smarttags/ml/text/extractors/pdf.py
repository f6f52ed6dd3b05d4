"""PDF through pdfminer.six, one page at a time under the page, character and time limits.

A PDF with more than ``max_pages`` pages is not refused: its first pages are read and the result
is flagged ``truncated_by="max_pages"`` (the start of a long document is what describes it best).
The time budget is checked between pages and, through the layout device, while a page renders,
so one pathological page cannot hold a worker past ``max_seconds``. pdfminer inflates each stream
whole in one call; it is given a zlib that stops at ``max_stream_bytes`` (a flate bomb, a content
stream or object stream of gigabytes of zeros, is refused as soon as it passes the limit).
"""

import contextlib
import threading
import zlib

from ...errors import UnreadableAssetError, gettext_noop
from .base import DeadlineExceeded, Extracted, TextBuilder, display_name, register

_stream_limit = threading.local()


class StreamTooLarge(UnreadableAssetError):
    """A PDF stream inflates beyond ``ExtractionLimits.max_stream_bytes``."""


def _too_large(limit):
    return StreamTooLarge(
        gettext_noop("a stream inflates to more than %(limit)s bytes (a possible flate bomb)"), limit=limit
    )


def _check_output(output, limit):
    if len(output) > limit:
        raise _too_large(limit)
    return output


class _BoundedDecompressor:
    def __init__(self, decompressor, limit):
        self._decompressor, self._limit, self._produced = decompressor, limit, 0

    def decompress(self, data, max_length=0):
        output = self._decompressor.decompress(data, self._limit - self._produced + 1)
        self._produced += len(output)
        if self._produced > self._limit:
            raise _too_large(self._limit)
        return output

    def __getattr__(self, name):
        return getattr(self._decompressor, name)


class _BoundedZlib:
    """Stands in for the ``zlib`` module inside ``pdfminer.pdftypes``: inflates no more than the limit
    set for the current thread (none outside :func:`extract_pdf`, as pdfminer itself would)."""

    error = zlib.error

    def __getattr__(self, name):
        return getattr(zlib, name)

    def decompress(self, data, *args, **kwargs):
        limit = getattr(_stream_limit, "bytes", None)
        if limit is None:
            return zlib.decompress(data, *args, **kwargs)
        decompressor = zlib.decompressobj(*args[1:2])
        output = _check_output(decompressor.decompress(data, limit + 1), limit)
        if not decompressor.eof:
            raise zlib.error("Error -5 while decompressing data: incomplete or truncated stream")
        return output

    def decompressobj(self, *args, **kwargs):
        decompressor = zlib.decompressobj(*args, **kwargs)
        limit = getattr(_stream_limit, "bytes", None)
        return decompressor if limit is None else _BoundedDecompressor(decompressor, limit)


@contextlib.contextmanager
def _bounded_streams(limit):
    import pdfminer.pdftypes

    if not isinstance(pdfminer.pdftypes.zlib, _BoundedZlib):
        pdfminer.pdftypes.zlib = _BoundedZlib()
    _stream_limit.bytes = limit
    try:
        yield
    finally:
        _stream_limit.bytes = None


def _device_class():
    from pdfminer.converter import PDFPageAggregator

    class DeadlineAggregator(PDFPageAggregator):
        """A layout device that gives up when the deadline passes, even in the middle of a page."""

        def __init__(self, *args, deadline, **kwargs):
            super().__init__(*args, **kwargs)
            self.deadline = deadline

        def render_string(self, *args, **kwargs):
            self.deadline.check()
            return super().render_string(*args, **kwargs)

        def paint_path(self, *args, **kwargs):
            self.deadline.check()
            return super().paint_path(*args, **kwargs)

    return DeadlineAggregator


def _layout_text(layout):
    from pdfminer.layout import LTTextContainer

    return "\n".join(element.get_text().strip() for element in layout if isinstance(element, LTTextContainer))


@register("pdf", extensions=("pdf",), whole_file=True)
def extract_pdf(source, limits, deadline):
    with _bounded_streams(limits.max_stream_bytes):
        return _extract_pdf(source, limits, deadline)


def _extract_pdf(source, limits, deadline):
    from pdfminer.layout import LAParams
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.psparser import PSException

    name = display_name(source.filename)
    source.rewind()
    try:
        document = PDFDocument(PDFParser(source.file))
    except PDFPasswordIncorrect:
        raise UnreadableAssetError(gettext_noop("%(name)s is an encrypted PDF that needs a password."), name=name)
    except PDFEncryptionError as error:
        raise UnreadableAssetError(
            gettext_noop("%(name)s is an encrypted PDF that cannot be decrypted: %(error)s"), name=name, error=error
        )
    except StreamTooLarge as error:
        raise _refused(name, error)
    except MemoryError:
        raise  # the reader's memory limit: reported as such, not as a broken file
    except (PSException, ValueError, TypeError, KeyError, AttributeError, IndexError, AssertionError) as error:
        raise _malformed(name, error)
    except Exception as error:  # pdfminer raises many ad-hoc types on broken files
        raise _malformed(name, error)

    resources = PDFResourceManager(caching=True)
    device = _device_class()(resources, laparams=LAParams(), deadline=deadline)
    interpreter = PDFPageInterpreter(resources, device)
    builder = TextBuilder(limits.max_chars)
    truncated_by = None
    pages_read = 0
    try:
        # check_extractable=False: the "no copying" permission bit restricts redistribution of the
        # content, not indexing it for search and tagging inside the site that holds the file.
        for page in PDFPage.create_pages(document):
            if pages_read >= limits.max_pages:
                truncated_by = "max_pages"
                break
            deadline.check()
            interpreter.process_page(page)
            pages_read += 1
            if not builder.add(_layout_text(device.get_result()), separator="\n\f"):
                truncated_by = "max_chars"
                break
    except DeadlineExceeded:
        if not builder.text().strip():
            raise
        truncated_by = "max_seconds"
    except StreamTooLarge as error:
        if pages_read == 0:
            raise _refused(name, error)
        truncated_by = "max_stream_bytes"
    except MemoryError:
        raise  # the reader's memory limit: reported as such, not as a broken file
    except Exception as error:  # a broken page after good ones: keep what was read
        if pages_read == 0:
            raise _malformed(name, error)
        truncated_by = truncated_by or "malformed"
    if pages_read == 0:
        raise UnreadableAssetError(gettext_noop("%(name)s is a malformed PDF: it has no readable pages."), name=name)
    return Extracted(builder.text(), truncated_by=truncated_by, pages=pages_read)


def _refused(name, error):
    """``error``, a :class:`StreamTooLarge`, is kept whole: its message is translated with this one."""
    return StreamTooLarge(gettext_noop("%(name)s was refused: %(error)s."), name=name, error=error)


def _malformed(name, error):
    return UnreadableAssetError(
        gettext_noop("%(name)s is a malformed PDF: %(error)s"), name=name, error=error or type(error).__name__
    )
