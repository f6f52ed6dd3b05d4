"""Start a real django-q2 worker (``manage.py qcluster``) against the test database."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

REPOSITORY = Path(__file__).resolve().parents[1]


def worker_environment(extra_env=None):
    """The environment of a second process that works on the test database and media folder."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        # Keep the caller's PYTHONPATH: the test matrix puts another Django and Wagtail on it.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPOSITORY), os.environ.get("PYTHONPATH")])),
        "SMARTTAGS_WORKER_DB": connection.settings_dict["NAME"],
        "SMARTTAGS_TEST_MEDIA_ROOT": settings.MEDIA_ROOT,
        **(extra_env or {}),
    }


@contextmanager
def running_worker(extra_env=None, command=("qcluster",)):
    """A real process running ``manage.py <command>`` (a django-q2 worker by default) beside the test."""
    env = worker_environment(extra_env)
    worker = subprocess.Popen(
        [sys.executable, "-m", "django", *command],
        cwd=REPOSITORY,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # Its own process group, so a test can kill the worker and all its children at once.
        start_new_session=True,
    )
    try:
        yield worker
    finally:
        if worker.poll() is None:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, 9)
                worker.wait()


def wait_until(condition, timeout=240, interval=0.5, worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if worker is not None and worker.poll() is not None:
            raise AssertionError(f"The worker exited early:\n{worker.stdout.read()}")
        time.sleep(interval)
    return False


def running_python(code, extra_env=None):
    """A real second process running ``code`` in Django's shell against the test database."""
    return running_worker(extra_env, command=("shell", "-c", code))
