"""The reader child: reads requests from the worker on stdin and answers on its own copy of stdout.

Started by :class:`~wagtail_smarttags.isolation.reader.IsolatedReader` as
``python -m wagtail_smarttags.isolation.child``. For each job it imports the job's modules, then
limits its own address space to what it uses now plus the job's memory limit and its CPU time to
the job's time limit, runs the job, lifts the limits and answers. A job that runs out of memory
gets a reply, and the child then exits rather than go on with a fragmented heap; one that runs
out of CPU time is ended by the kernel (SIGXCPU); the worker kills one that overruns its wall
clock. Nothing here imports Django.
"""

import contextlib
import importlib
import os
import resource
import sys
import threading
import time

from ..ml.errors import gettext_noop, message_record
from .jobs import JOBS
from .protocol import ChannelClosed, read_frame, write_frame

#: A child that has served this many jobs, or grown this much beyond its size after warming up, is
#: replaced: parsers cache and leak, and a fresh process is cheap next to a slow, swollen one.
MAX_JOBS = 500
MAX_GROWTH_BYTES = 256 * 1024 * 1024


def _status_bytes(field):
    """A ``/proc/self/status`` size field (``VmSize``, ``VmRSS``) in bytes; 0 where there is no /proc."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _die_with_parent():
    """Exit as soon as the worker is gone, even in the middle of a job.

    Not ``PR_SET_PDEATHSIG``: that fires when the *thread* that started the child ends, and the
    worker starts it from a decoding thread that lives only as long as one task.
    """
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=watch, name="smarttags-reader-watch", daemon=True).start()


@contextlib.contextmanager
def _limits(max_memory, max_seconds):
    unlimited = resource.RLIM_INFINITY
    address_space = _status_bytes("VmSize")
    if address_space:
        resource.setrlimit(resource.RLIMIT_AS, (address_space + max_memory, unlimited))
    resource.setrlimit(resource.RLIMIT_CPU, (int(_cpu_seconds() + max_seconds) + 1, unlimited))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (unlimited, unlimited))
        resource.setrlimit(resource.RLIMIT_CPU, (unlimited, unlimited))


def _run(job, arguments, max_memory, max_seconds):
    """``(status, payload)`` for one job; the status names how the worker should take it."""
    from ..ml.errors import MissingDependencyError, NotTaggableError, UnreadableAssetError

    # Errors cross the pipe as records (plain data), so that the admin can still translate them.
    try:
        with _limits(max_memory, max_seconds):
            return "ok", job.function(**arguments)
    except MemoryError:
        return "memory", None
    except NotTaggableError as error:
        return "not_taggable", error.record
    except MissingDependencyError as error:
        return "missing", error.record
    except UnreadableAssetError as error:
        return "unreadable", error.record
    except RecursionError:
        return "unreadable", message_record(gettext_noop("The file is nested too deeply to read."))
    except Exception as error:  # hostile input reaches code paths nobody tested
        return "failed", f"{type(error).__name__}: {error}"


def serve(requests, replies):
    served = 0
    warmed, baseline = set(), 0
    while True:
        try:
            name, arguments, max_memory, max_seconds = read_frame(requests)
        except ChannelClosed:
            return
        job = JOBS.get(name)
        if job is None:
            write_frame(replies, ("failed", f"Unknown reader job {name!r}.", False))
            continue
        if job.name not in warmed:
            try:
                for module in job.imports:
                    importlib.import_module(module)
                if job.warm_up:
                    job.warm_up(**arguments)
            except ImportError as error:
                write_frame(replies, ("ready",))
                message = gettext_noop("The reader cannot import %(module)s: %(error)s")
                write_frame(replies, ("missing", message_record(message, module=error.name, error=error), True))
                return
            warmed.add(job.name)
            # What a job's libraries take is the child's own size; growth beyond it is the files'.
            baseline = _status_bytes("VmRSS")
        write_frame(replies, ("ready",))
        status, payload = _run(job, arguments, max_memory, max_seconds)
        served += 1
        grown = _status_bytes("VmRSS") - baseline
        retiring = status == "memory" or served >= MAX_JOBS or grown > MAX_GROWTH_BYTES
        write_frame(replies, (status, payload, retiring))
        if retiring:
            return


def main():
    _die_with_parent()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a killed reader must not write a core dump
    # The pipe the worker reads replies from is this process's stdout; anything a library prints
    # goes to stderr instead, where it cannot corrupt the replies.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    serve(sys.stdin.buffer, replies)


if __name__ == "__main__":
    main()
