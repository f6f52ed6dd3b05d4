"""Legacy binary Office formats, DOC and PPT, through Debian's ``catdoc`` package.

``catdoc`` (Word 97-2003 documents) and ``catppt`` (PowerPoint 97-2003) are small C programs, far
lighter than LibreOffice, installed with ``apt-get install catdoc``. They run as subprocesses
with a timeout, so a hostile file costs at most ``max_seconds``; when they are missing the file
is refused with :class:`UnsupportedHereError` instead of being mistaken for a broken one.
"""

import shutil
import subprocess

from ...errors import UnreadableAssetError
from .base import DeadlineExceeded, Extracted, TextBuilder, UnsupportedHereError, register

DEBIAN_PACKAGE = "catdoc"

# catdoc writes "[This was fast-saved ...]" style notes on stderr; catppt exits 0 even for non-OLE
# files and only says so there.
_CATPPT_FAILURE = "is not OLE file or Error"


def _converter(program, format_name):
    path = shutil.which(program)
    if path is None:
        raise UnsupportedHereError(
            f"{format_name} files are unsupported here: the '{program}' converter is not installed "
            f"(install the Debian package '{DEBIAN_PACKAGE}')."
        )
    return path


def _run(arguments, source, limits, deadline):
    name = source.filename or "The file"
    timeout = max(deadline.remaining(), 0.1)
    try:
        completed = subprocess.run(
            arguments, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise DeadlineExceeded()
    except OSError as error:
        raise UnreadableAssetError(f"{name}: the converter {arguments[0]} could not run: {error}")
    stderr = completed.stderr.decode("utf-8", "replace").strip()
    if completed.returncode != 0 or _CATPPT_FAILURE in stderr:
        detail = stderr.splitlines()[-1] if stderr else f"exit status {completed.returncode}"
        if "encrypted" in stderr.lower():
            raise UnreadableAssetError(f"{name} is encrypted or password protected ({detail}).")
        raise UnreadableAssetError(f"{name} could not be converted: {detail}")
    builder = TextBuilder(limits.max_chars)
    builder.add(completed.stdout.decode("utf-8", "replace").replace("\f", "\n\f"), separator="")
    return Extracted(builder.text(), truncated_by="max_chars" if builder.full else None)


@register("doc", extensions=("doc", "dot"), whole_file=True)
def extract_doc(source, limits, deadline):
    program = _converter("catdoc", "DOC")
    with source.local_path(limits.max_file_bytes) as path:
        # -d utf-8: output encoding; -w: no re-wrapping of paragraphs into 72-column lines.
        return _run([program, "-d", "utf-8", "-w", path], source, limits, deadline)


@register("ppt", extensions=("ppt", "pps", "pot"), whole_file=True)
def extract_ppt(source, limits, deadline):
    program = _converter("catppt", "PPT")
    with source.local_path(limits.max_file_bytes) as path:
        return _run([program, "-d", "utf-8", path], source, limits, deadline)
