"""Marked-up text: HTML (BeautifulSoup) and RTF (striprtf).

Both are streamed like plain text: at most ``max_file_bytes`` (and at most 20 bytes per allowed
character) are read, which for markup-heavy files bounds the work rather than the text. HTML is
fed to lxml a chunk at a time, with the deadline checked between chunks. HTML
honours a ``<meta charset>`` that actually decodes the bytes, then falls back to detection; RTF
is 7-bit by specification and names its own code page (``\\ansicpg``), which striprtf applies
to ``\\'xx`` escapes.
"""

import codecs
import re

from ...errors import UnreadableAssetError, gettext_noop
from .base import Extracted, TextBuilder, register
from .plain import CHUNK_BYTES, SAMPLE_BYTES, _check_text, detect_encoding

_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_ANSICPG_RE = re.compile(r"\\ansicpg(\d+)")
# Elements whose content is not text a reader sees.
_INVISIBLE = ("script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "head")


# Markup rarely carries more than this many bytes per character of text; reading further only
# feeds the parser images and styles (a 50 MB RTF is mostly hex-encoded pictures).
MAX_MARKUP_BYTES_PER_CHAR = 20


def _empty(source):
    if source.filename:
        return UnreadableAssetError(gettext_noop("%(name)s is empty."), name=source.filename)
    return UnreadableAssetError(gettext_noop("The file is empty."))


def _read_prefix(source, limits):
    data, more = source.read_prefix(min(limits.max_file_bytes, limits.max_chars * MAX_MARKUP_BYTES_PER_CHAR))
    if not data:
        raise _empty(source)
    return data, ("max_file_bytes" if more else None)


def _html_encoding(data, filename):
    declared = _META_CHARSET_RE.search(data[:4096])
    if declared and not data.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        name = declared.group(1).decode("ascii", "ignore")
        try:
            data.decode(name)
            return name
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration is common: trust the bytes instead
    return detect_encoding(data[:65536], filename)


class _VisibleText:
    """An lxml parser target keeping the text a reader sees (and the title), up to the character budget.

    It receives the document as events while it is fed, so no tree is ever built: memory stays
    proportional to the text kept, whatever the markup.
    """

    def __init__(self, builder):
        self.builder = builder
        self.hidden = 0
        self.in_title = False
        self.title = []
        self.pending = []

    def _flush(self):
        if self.pending:
            for line in "".join(self.pending).splitlines():
                if line.strip():
                    self.builder.add(line.strip())
            self.pending = []

    def start(self, tag, attributes):
        self._flush()
        if tag == "title":
            self.in_title = True
        elif tag in _INVISIBLE:
            self.hidden += 1

    def end(self, tag):
        self._flush()
        if tag == "title":
            self.in_title = False
        elif tag in _INVISIBLE and self.hidden:
            self.hidden -= 1

    def data(self, data):
        if self.in_title:
            self.title.append(data)
        elif not self.hidden:
            self.pending.append(data)

    def comment(self, text):
        pass

    def close(self):
        self._flush()


@register("html", extensions=("html", "htm", "xhtml"), whole_file=False)
def extract_html(source, limits, deadline):
    from lxml import etree

    budget = min(limits.max_file_bytes, limits.max_chars * MAX_MARKUP_BYTES_PER_CHAR)
    source.rewind()
    sample = source.read(min(SAMPLE_BYTES, budget))
    if not sample:
        raise _empty(source)
    encoding = _html_encoding(sample, source.filename)
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    first = decoder.decode(sample)
    _check_text(first, source.filename)
    body = TextBuilder(limits.max_chars)
    target = _VisibleText(body)
    # lxml parses tens of megabytes a second; fed a chunk at a time it is stopped by the deadline
    # or the character budget between chunks instead of parsing a whole file in one call.
    parser = etree.HTMLParser(target=target, recover=True, no_network=True, remove_comments=True)
    truncated_by, read, piece = None, len(sample), first
    while True:
        if piece:
            parser.feed(piece)
        deadline.check()
        if body.full:
            truncated_by = "max_chars"
            break
        chunk = source.read(min(CHUNK_BYTES, budget - read)) if read < budget else b""
        if not chunk:
            if read >= budget and source.read(1):
                truncated_by = "max_file_bytes"
            break
        read += len(chunk)
        piece = decoder.decode(chunk)
    piece = decoder.decode(b"", final=True)
    if piece:
        parser.feed(piece)
    try:
        parser.close()
    except etree.XMLSyntaxError:
        pass  # nothing at all was parseable: the empty text is refused by extract_text
    text = TextBuilder(limits.max_chars)
    text.add(" ".join("".join(target.title).split()))
    text.add(body.text(), separator="")
    if text.full and not truncated_by:
        truncated_by = "max_chars"
    return Extracted(text.text(), truncated_by=truncated_by, encoding=encoding)


@register("rtf", extensions=("rtf",), whole_file=False)
def extract_rtf(source, limits, deadline):
    from striprtf.striprtf import rtf_to_text

    data, truncated_by = _read_prefix(source, limits)
    if not data.lstrip().startswith(b"{\\rtf"):
        if source.filename:
            raise UnreadableAssetError(
                gettext_noop("%(name)s is not an RTF document (no {\\rtf header)."), name=source.filename
            )
        raise UnreadableAssetError(gettext_noop("The file is not an RTF document (no {\\rtf header)."))
    # RTF is 7-bit ASCII; latin-1 maps any stray 8-bit byte to a character instead of failing.
    markup = data.decode("latin-1")
    code_page = _ANSICPG_RE.search(markup[:4096])
    encoding = f"cp{code_page.group(1)}" if code_page else "cp1252"
    try:
        "".encode(encoding)
    except LookupError:
        encoding = "cp1252"
    deadline.check()
    try:
        text = rtf_to_text(markup, encoding=encoding, errors="replace")
    except (ValueError, IndexError, UnicodeError) as error:
        if source.filename:
            raise UnreadableAssetError(
                gettext_noop("%(name)s is a malformed RTF document: %(error)s"), name=source.filename, error=error
            )
        raise UnreadableAssetError(gettext_noop("The file is a malformed RTF document: %(error)s"), error=error)
    builder = TextBuilder(limits.max_chars)
    builder.add(text, separator="")
    if builder.full:
        truncated_by = "max_chars"
    return Extracted(builder.text(), truncated_by=truncated_by, encoding=encoding)
