"""Untrusted files are parsed in a child process with hard limits on memory and time.

A worker hands each file's decoding (images, video frames) and text extraction with keyword
candidates (documents) to its reader child as a named job (:mod:`.jobs`). The child limits its
own address space and CPU time for the job; the worker waits no longer than the job's time
limit and kills the child if it overruns. Whatever a file does to a parser (inflate gigabytes,
loop, crash the C library), the worker and the rest of its batch carry on, and the asset gets
a readable error. The child is reused from file to file, so isolation costs two pipe round
trips per file, not a process. Nothing in this package imports Django.
"""

from .jobs import image_from_plain
from .reader import IsolatedReader, ReaderLimitError, ReaderLimits, ReaderUnavailableError, get_reader

__all__ = [
    "IsolatedReader",
    "ReaderLimitError",
    "ReaderLimits",
    "ReaderUnavailableError",
    "get_reader",
    "image_from_plain",
]
