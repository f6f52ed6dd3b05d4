"""Marked-up text: HTML (BeautifulSoup) and RTF (striprtf).

Both are streamed like plain text: at most ``max_file_bytes`` (and at most 20 bytes per allowed
character) are read, which for markup-heavy files bounds the work rather than the text. HTML
honours a ``<meta charset>`` that actually decodes the bytes, then falls back to detection; RTF
is 7-bit by specification and names its own code page (``\\ansicpg``), which striprtf applies
to ``\\'xx`` escapes.
"""

import re

from ...errors import UnreadableAssetError
from .base import Extracted, TextBuilder, register
from .plain import _check_text, detect_encoding

_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_ANSICPG_RE = re.compile(r"\\ansicpg(\d+)")
# Elements whose content is not text a reader sees.
_INVISIBLE = ("script", "style", "noscript", "template", "svg", "canvas", "iframe", "object", "head")


# Markup rarely carries more than this many bytes per character of text; reading further only
# feeds the parser images and styles (a 50 MB RTF is mostly hex-encoded pictures).
MAX_MARKUP_BYTES_PER_CHAR = 20


def _read_prefix(source, limits):
    data, more = source.read_prefix(min(limits.max_file_bytes, limits.max_chars * MAX_MARKUP_BYTES_PER_CHAR))
    if not data:
        raise UnreadableAssetError(f"{source.filename or 'The file'} is empty.")
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


@register("html", extensions=("html", "htm", "xhtml"), whole_file=False)
def extract_html(source, limits, deadline):
    from bs4 import BeautifulSoup

    data, truncated_by = _read_prefix(source, limits)
    encoding = _html_encoding(data, source.filename)
    markup = data.decode(encoding, errors="replace")
    _check_text(markup, source.filename)
    deadline.check()
    # lxml (already required by python-docx) parses tens of megabytes a second; html.parser does not.
    soup = BeautifulSoup(markup, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    for element in soup(_INVISIBLE):
        element.decompose()
    deadline.check()
    builder = TextBuilder(limits.max_chars)
    builder.add(title)
    for line in soup.get_text("\n").splitlines():
        if line.strip() and not builder.add(line.strip()):
            truncated_by = "max_chars"
            break
    return Extracted(builder.text(), truncated_by=truncated_by, encoding=encoding)


@register("rtf", extensions=("rtf",), whole_file=False)
def extract_rtf(source, limits, deadline):
    from striprtf.striprtf import rtf_to_text

    data, truncated_by = _read_prefix(source, limits)
    if not data.lstrip().startswith(b"{\\rtf"):
        raise UnreadableAssetError(f"{source.filename or 'The file'} is not an RTF document (no {{\\rtf header).")
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
        raise UnreadableAssetError(f"{source.filename or 'The file'} is a malformed RTF document: {error}")
    builder = TextBuilder(limits.max_chars)
    builder.add(text, separator="")
    if builder.full:
        truncated_by = "max_chars"
    return Extracted(builder.text(), truncated_by=truncated_by, encoding=encoding)
