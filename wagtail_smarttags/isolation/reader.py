"""The worker's side: one long-lived reader child per worker process, replaced when it dies."""

import contextlib
import fcntl
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from ..ml.errors import NotTaggableError, SmartTagsError, UnreadableAssetError, gettext_noop, message_record
from .protocol import ChannelClosed, ReplyTimeout, ReplyTooLarge, read_reply, write_frame

logger = logging.getLogger(__name__)

MiB = 1024 * 1024

#: Time a child may take to start and import a job's libraries, which is not charged to the file.
STARTUP_SECONDS = 60
#: Replies longer than this are refused: 16 video frames at 320 pixels are under 10 MiB.
MAX_REPLY_BYTES = 128 * MiB
PIPE_BYTES = MiB


@dataclass(frozen=True)
class ReaderLimits:
    """What one file may cost the reader: memory beyond the reader's own libraries, and time (CPU
    time, enforced by the kernel, and wall-clock time, enforced by the worker)."""

    max_memory: int = 512 * MiB
    max_seconds: float = 30.0

    def describe_memory(self):
        return f"{self.max_memory / MiB:g} MiB"


class ReaderLimitError(UnreadableAssetError):
    """Reading the file overran a limit and the reader stopped it."""


class ReaderUnavailableError(SmartTagsError):
    """The reader child cannot start or cannot import what a job needs: a problem of the
    installation, not of the file, so tagging pauses rather than failing assets."""


class IsolatedReader:
    """Runs reader jobs (``isolation.jobs``) in a child process, one at a time.

    The child is started on first use and reused, so an ordinary file costs two pipe round trips,
    not a process. When a file overruns its limits the child is killed or exits; the next job
    starts a new one.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._process = None
        self.started = 0

    @property
    def pid(self):
        return self._process.pid if self._process and self._process.poll() is None else None

    def run(self, job, limits, /, **arguments):
        """The plain result of ``job``; raises an ``UnreadableAssetError`` (``ReaderLimitError`` when a
        limit stopped it), ``NotTaggableError``, or ``ReaderUnavailableError``."""
        request = (job, arguments, int(limits.max_memory), float(limits.max_seconds))
        with self._lock:
            process = self._send(request)
            try:
                self._wait_ready(process)
                reply = read_reply(process.stdout.fileno(), time.monotonic() + limits.max_seconds, MAX_REPLY_BYTES)
            except ReplyTimeout:
                self._stop()
                raise ReaderLimitError(_too_long(limits)) from None
            except ChannelClosed:
                raise self._death(limits) from None
            except (ReplyTooLarge, pickle.UnpicklingError, EOFError, ValueError) as error:
                self._stop()
                message = gettext_noop("Reading the file gave a reply the worker refused (%(error)s).")
                raise UnreadableAssetError(message, error=error) from None
            status, payload, retiring = reply
            if retiring:
                self._stop()
        return _result(status, payload, limits)

    def close(self):
        with self._lock:
            self._stop()

    def _send(self, request):
        for _attempt in range(2):
            process = self._process
            if process is None or process.poll() is not None:
                process = self._start()
            try:
                write_frame(process.stdin, request)
                return process
            except (BrokenPipeError, OSError, ValueError):
                self._stop()  # it retired or died since the last job: start another once
        raise ReaderUnavailableError(gettext_noop("The reader process could not be started; see the worker's log."))

    def _wait_ready(self, process):
        try:
            reply = read_reply(process.stdout.fileno(), time.monotonic() + STARTUP_SECONDS, 1024)
        except (ReplyTimeout, ChannelClosed):
            code = self._stop()
            message = gettext_noop("The reader process did not start (exit status %(code)s); see the worker's log.")
            raise ReaderUnavailableError(message, code=code) from None
        if reply != ("ready",):
            self._stop()
            message = gettext_noop("The reader process answered %(reply)s instead of starting a job.")
            raise ReaderUnavailableError(message, reply=repr(reply))

    def _start(self):
        environment = dict(os.environ)
        environment.update(
            {
                # Each thread's malloc arena reserves 64 MiB of address space, and BLAS threads are
                # useless here: both would count against the memory limit for nothing.
                "MALLOC_ARENA_MAX": "2",
                "OPENBLAS_NUM_THREADS": "1",
                "OMP_NUM_THREADS": "1",
                "PYTHONPATH": os.pathsep.join(path for path in sys.path if path),
            }
        )
        self._process = subprocess.Popen(
            [sys.executable, "-m", "wagtail_smarttags.isolation.child"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environment,
            close_fds=True,
        )
        self.started += 1
        for stream in (self._process.stdin, self._process.stdout):
            _widen(stream)
        return self._process

    def _stop(self):
        """Kill the child (if it is still there) and reap it; returns its exit status."""
        process, self._process = self._process, None
        if process is None:
            return None
        if process.poll() is None:
            process.kill()
        for stream in (process.stdin, process.stdout):
            try:
                stream.close()
            except OSError:
                pass
        return process.wait()

    def _death(self, limits):
        code = self._stop()
        if code == -signal.SIGXCPU:
            return ReaderLimitError(_too_long(limits))
        if code == -signal.SIGKILL:
            message = gettext_noop(
                "The reader was killed by the system while reading the file, probably for lack of memory."
            )
            return ReaderLimitError(message)
        cause = f"signal {signal.Signals(-code).name}" if code and code < 0 else f"exit status {code}"
        logger.warning("The reader process died reading a file (%s)", cause)
        message = gettext_noop("The file crashed the reader (%(cause)s); it may need more than %(memory)s to read.")
        return UnreadableAssetError(message, cause=cause, memory=limits.describe_memory())


def _widen(stream):
    """Linux: a pipe of 1 MiB instead of 64 KiB, so that a decoded image crosses it in one read rather
    than ten, each of which would make the decoding thread take the GIL from the network's thread."""
    with contextlib.suppress(AttributeError, OSError):
        fcntl.fcntl(stream.fileno(), fcntl.F_SETPIPE_SZ, PIPE_BYTES)


def _too_long(limits):
    message = gettext_noop("The file took longer than %(seconds)s s to read; reading was stopped.")
    return message_record(message, seconds=f"{limits.max_seconds:g}")


def _result(status, payload, limits):
    if status == "ok":
        return payload
    if status == "memory":
        message = gettext_noop("The file needs more than %(memory)s to read; reading was stopped.")
        raise ReaderLimitError(message, memory=limits.describe_memory())
    if status == "not_taggable":
        raise NotTaggableError(payload)
    if status == "missing":
        raise ReaderUnavailableError(payload)
    if status == "unreadable":
        raise UnreadableAssetError(payload)
    raise UnreadableAssetError(gettext_noop("The file could not be read (%(error)s)."), error=payload)


_readers: dict = {}
_readers_lock = threading.Lock()


def get_reader():
    """This process's reader (a forked process gets its own)."""
    with _readers_lock:
        reader = _readers.get(os.getpid())
        if reader is None:
            reader = _readers[os.getpid()] = IsolatedReader()
        return reader
