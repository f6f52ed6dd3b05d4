"""Legacy binary Office formats, DOC and PPT, through Debian's ``catdoc`` package.

``catdoc`` (Word 97-2003 documents) and ``catppt`` (PowerPoint 97-2003) are small C programs, far
lighter than LibreOffice, installed with ``apt-get install catdoc``. They run as subprocesses
with a timeout, so a hostile file costs at most ``max_seconds``; when they are missing the file
is refused with :class:`UnsupportedHereError` instead of being mistaken for a broken one.
"""

import shutil
import subprocess

from ...errors import UnreadableAssetError, gettext_noop, message_record
from .base import DeadlineExceeded, Extracted, TextBuilder, UnsupportedHereError, display_name, register

DEBIAN_PACKAGE = "catdoc"

# catdoc writes "[This was fast-saved ...]" style notes on stderr; catppt exits 0 even for non-OLE
# files and only says so there.
_CATPPT_FAILURE = "is not OLE file or Error"


def _converter(program, format_name):
    path = shutil.which(program)
    if path is None:
        raise UnsupportedHereError(
            gettext_noop(
                "%(format)s files are unsupported here: the '%(program)s' converter is not installed "
                "(install the Debian package '%(package)s')."
            ),
            format=format_name,
            program=program,
            package=DEBIAN_PACKAGE,
        )
    return path


def _run(arguments, source, limits, deadline):
    name = display_name(source.filename)
    timeout = max(deadline.remaining(), 0.1)
    try:
        completed = subprocess.run(
            arguments, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise DeadlineExceeded()
    except OSError as error:
        raise UnreadableAssetError(
            gettext_noop("%(name)s: the converter %(program)s could not run: %(error)s"),
            name=name,
            program=arguments[0],
            error=error,
        )
    stderr = completed.stderr.decode("utf-8", "replace").strip()
    if completed.returncode != 0 or _CATPPT_FAILURE in stderr:
        if stderr:
            detail = stderr.splitlines()[-1]
        else:
            detail = message_record(gettext_noop("exit status %(code)s"), code=completed.returncode)
        if "encrypted" in stderr.lower():
            raise UnreadableAssetError(
                gettext_noop("%(name)s is encrypted or password protected (%(detail)s)."), name=name, detail=detail
            )
        raise UnreadableAssetError(
            gettext_noop("%(name)s could not be converted: %(detail)s"), name=name, detail=detail
        )
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
