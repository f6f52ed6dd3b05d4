"""Formats that are encoded text: TXT, CSV and the SRT / WebVTT subtitle formats.

They are streamed: only as many bytes as ``max_chars`` needs are read and decoded, so a 200 MB
CSV costs no more than its first megabyte. The encoding is detected, never assumed: byte order
marks first, then strict UTF-8, then charset-normalizer; a file that decodes to mostly control or
unassigned characters is refused as binary.
"""

import codecs
import csv
import io
import re
import unicodedata

from ...errors import UnreadableAssetError, gettext_noop
from .base import Extracted, incremental_decode, register

CHUNK_BYTES = 64 * 1024
SAMPLE_BYTES = 64 * 1024

# Share of suspicious characters (controls, unassigned, private use, surrogates) above which
# decoded "text" is taken for binary data. Real text, even messy, stays far below 1 %.
MAX_SUSPICIOUS_SHARE = 0.02

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_ALLOWED_CONTROLS = frozenset("\t\n\r\f\v")


def _suspicious_share(text):
    if not text:
        return 0.0
    bad = sum(
        1 for char in text if char not in _ALLOWED_CONTROLS and unicodedata.category(char) in {"Cc", "Cn", "Co", "Cs"}
    )
    return bad / len(text)


def detect_encoding(sample, filename=""):
    """The encoding of ``sample`` (the first bytes of a file), or UnreadableAssetError for binary data."""
    if not sample:
        if filename:
            raise UnreadableAssetError(gettext_noop("%(name)s is empty."), name=filename)
        raise UnreadableAssetError(gettext_noop("The file is empty."))
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    has_nul = b"\x00" in sample
    if not has_nul:
        # A sample cut mid-character is still UTF-8: drop up to three trailing bytes before judging.
        for cut in range(4):
            try:
                sample[: len(sample) - cut].decode("utf-8")
                return "utf-8"
            except UnicodeDecodeError:
                continue
    from charset_normalizer import from_bytes

    matches = from_bytes(sample)
    best = matches.best()
    if best is None or (has_nul and not best.encoding.startswith(("utf_16", "utf_32"))):
        raise _binary(filename)
    return _break_tie(sample, [match for match in matches if match.chaos <= best.chaos + 0.02])


# Single-byte code pages decode most Western text without "chaos", so charset-normalizer often
# ties cp1252 with cp1250 or cp1257 and may pick the wrong one ("élčves" for "élèves"). Among tied
# candidates, the decoding that yields the most known stopwords wins ("à", "où", "für", "más"),
# then the encoding most common in practice.
_PREFERRED_ENCODINGS = ("utf_8", "cp1252", "latin_1", "iso8859_15", "mac_roman", "cp1250", "iso8859_2")


def _break_tie(sample, matches):
    from ..language import SUPPORTED_LANGUAGES, stopwords

    known = frozenset().union(*(stopwords(language) for language in SUPPORTED_LANGUAGES))
    encodings = []
    for match in matches:
        for encoding in [match.encoding, *match.could_be_from_charset]:
            if encoding not in encodings:
                encodings.append(encoding)

    def rank(encoding):
        words = sample.decode(encoding, errors="replace").lower().split()
        hits = sum(1 for word in words if word.strip(".,;:!?\"'()«»") in known)
        preference = _PREFERRED_ENCODINGS.index(encoding) if encoding in _PREFERRED_ENCODINGS else 99
        return (-hits, preference)

    return min(encodings, key=rank)


def _check_text(text, filename):
    if _suspicious_share(text[:SAMPLE_BYTES]) > MAX_SUSPICIOUS_SHARE:
        raise _binary(filename)


def _binary(filename):
    if filename:
        return UnreadableAssetError(gettext_noop("%(name)s looks like binary data, not text."), name=filename)
    return UnreadableAssetError(gettext_noop("The file looks like binary data, not text."))


def read_text(source, limits, deadline):
    """``(text, encoding, truncated_by)`` for the start of ``source``, decoded and size-bounded."""
    source.rewind()
    sample = source.read(SAMPLE_BYTES)
    encoding = detect_encoding(sample, source.filename)
    budget = limits.max_file_bytes

    def chunks():
        nonlocal budget
        yield sample[:budget]
        budget -= len(sample)
        while budget > 0:
            chunk = source.read(min(CHUNK_BYTES, budget))
            if not chunk:
                return
            budget -= len(chunk)
            yield chunk

    text, hit_char_limit = incremental_decode(chunks(), encoding, limits.max_chars, deadline)
    _check_text(text, source.filename)
    truncated_by = "max_chars" if hit_char_limit else None
    if not truncated_by and budget <= 0 and source.read(1):
        truncated_by = "max_file_bytes"
    return text.lstrip("\ufeff"), encoding, truncated_by


@register("txt", extensions=("txt", "text", "md", "markdown", "rst", "log"), whole_file=False)
def extract_txt(source, limits, deadline):

    text, encoding, truncated_by = read_text(source, limits, deadline)
    return Extracted(text, truncated_by=truncated_by, encoding=encoding)


@register("csv", extensions=("csv", "tsv"), whole_file=False)
def extract_csv(source, limits, deadline):

    text, encoding, truncated_by = read_text(source, limits, deadline)
    try:
        dialect = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel_tab if source.extension == "tsv" else csv.excel
    rows = []
    try:
        for row in csv.reader(io.StringIO(text), dialect):
            cells = [cell.strip() for cell in row if cell and cell.strip()]
            if cells:
                # Tabs keep cells apart as separate phrases for keyword extraction.
                rows.append("\t".join(cells))
    except csv.Error:
        # A truncated quoted field at the end of the prefix, or a hand-written oddity: keep the raw text.
        return Extracted(text, truncated_by=truncated_by, encoding=encoding)
    return Extracted("\n".join(rows), truncated_by=truncated_by, encoding=encoding)


_TIMING_RE = re.compile(r"^\s*\d{1,2}:\d{2}(:\d{2})?[.,]\d{1,3}\s*-->\s*\d{1,2}:\d{2}(:\d{2})?[.,]\d{1,3}.*$")
_CUE_TAG_RE = re.compile(r"<[^>\n]{0,100}>|\{\\[^}\n]{0,100}\}")


def _cue_text(lines):
    """Subtitle text lines without timings, cue numbers, markup or the repeats of rolling captions."""
    kept = []
    for line in lines:
        line = _CUE_TAG_RE.sub("", line).strip()
        if not line or line.isdigit() or _TIMING_RE.match(line):
            continue
        if kept and kept[-1] == line:
            continue
        kept.append(line)
    return "\n".join(kept)


@register("srt", extensions=("srt",), whole_file=False)
def extract_srt(source, limits, deadline):

    text, encoding, truncated_by = read_text(source, limits, deadline)
    return Extracted(_cue_text(text.splitlines()), truncated_by=truncated_by, encoding=encoding)


@register("vtt", extensions=("vtt", "webvtt"), whole_file=False)
def extract_vtt(source, limits, deadline):

    text, encoding, truncated_by = read_text(source, limits, deadline)
    lines = []
    # WebVTT blocks are separated by blank lines; NOTE, STYLE and REGION blocks and the header carry no speech.
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        block_lines = block.strip("\n").split("\n")
        first = block_lines[0].strip() if block_lines else ""
        if first.startswith(("WEBVTT", "NOTE", "STYLE", "REGION")):
            continue
        # A cue may start with an identifier line before its timing line.
        if len(block_lines) > 1 and not _TIMING_RE.match(first) and _TIMING_RE.match(block_lines[1]):
            block_lines = block_lines[1:]
        lines.extend(block_lines)
    return Extracted(_cue_text(lines), truncated_by=truncated_by, encoding=encoding)
