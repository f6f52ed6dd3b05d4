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


@contextmanager
def running_worker(extra_env=None):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(REPOSITORY),
        "SMARTTAGS_WORKER_DB": connection.settings_dict["NAME"],
        "SMARTTAGS_TEST_MEDIA_ROOT": settings.MEDIA_ROOT,
        **(extra_env or {}),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "django", "qcluster"],
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
