"""PDF through pdfminer.six, one page at a time under the page, character and time limits.

A PDF with more than ``max_pages`` pages is not refused: its first pages are read and the result
is flagged ``truncated_by="max_pages"`` (the start of a long document is what describes it best).
The time budget is checked between pages and, through the layout device, while a page renders,
so one pathological page cannot hold a worker past ``max_seconds``.
"""

from ...errors import UnreadableAssetError
from .base import DeadlineExceeded, Extracted, TextBuilder, register


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
    from pdfminer.layout import LAParams
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser
    from pdfminer.psparser import PSException

    name = source.filename or "The file"
    source.rewind()
    try:
        document = PDFDocument(PDFParser(source.file))
    except PDFPasswordIncorrect:
        raise UnreadableAssetError(f"{name} is an encrypted PDF that needs a password.")
    except PDFEncryptionError as error:
        raise UnreadableAssetError(f"{name} is an encrypted PDF that cannot be decrypted: {error}")
    except (PSException, ValueError, TypeError, KeyError, AttributeError, IndexError, AssertionError) as error:
        raise UnreadableAssetError(f"{name} is a malformed PDF: {error or type(error).__name__}")
    except Exception as error:  # pdfminer raises many ad-hoc types on broken files
        raise UnreadableAssetError(f"{name} is a malformed PDF: {error or type(error).__name__}")

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
    except Exception as error:  # a broken page after good ones: keep what was read
        if pages_read == 0:
            raise UnreadableAssetError(f"{name} is a malformed PDF: {error or type(error).__name__}")
        truncated_by = truncated_by or "malformed"
    if pages_read == 0:
        raise UnreadableAssetError(f"{name} is a malformed PDF: it has no readable pages.")
    return Extracted(builder.text(), truncated_by=truncated_by, pages=pages_read)
