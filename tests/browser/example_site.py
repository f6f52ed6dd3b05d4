"""Run the example site (example_project/) with its worker in subprocesses, on a throwaway database.

The browser tests talk to this site over HTTP, so they need none of pytest-django's database fixtures.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
MANAGE = REPOSITORY / "example_project" / "manage.py"
USERNAME, PASSWORD = "admin", "changeme"

# Runs inside the example site: library images titled "<tag> NN", tagged with their garment so the
# tags exist in the taxonomy, ready to be picked in the admin.
IMPORT_IMAGES = """
import sys
from pathlib import Path
from django.core.files import File
from wagtail.images import get_image_model
from wagtail.models import Collection
from django.contrib.auth import get_user_model

get_user_model().objects.create_superuser({username!r}, "admin@example.com", {password!r})
root = Collection.get_first_root_node()
collection = root.add_child(name="Clothing")
Image = get_image_model()
for tag, paths in {images!r}.items():
    for number, path in enumerate(paths, start=1):
        with open(path, "rb") as handle:
            image = Image(title=f"{{tag}} {{number:02d}}", collection=collection)
            image.file.save(Path(path).name, File(handle), save=True)
        image.tags.add(tag)
print("imported", Image.objects.count())
"""


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ExampleSite:
    def __init__(self, workdir, images):
        self.workdir = Path(workdir)
        self.images = {tag: [str(path) for path in paths] for tag, paths in images.items()}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "example_project.settings",
            "SMARTTAGS_SQLITE_PATH": str(self.workdir / "site.sqlite3"),
            "SMARTTAGS_MEDIA_ROOT": str(self.workdir / "media"),
            "DJANGO_DEBUG": "1",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("SMARTTAGS_WORKER_DB", None)
        self.processes = []

    def manage(self, *args, **kwargs):
        return subprocess.run(
            [sys.executable, str(MANAGE), *args],
            env=self.env,
            cwd=MANAGE.parent,
            check=True,
            capture_output=True,
            text=True,
            timeout=kwargs.get("timeout", 300),
        )

    def start(self):
        self.manage("migrate", "--noinput")
        script = IMPORT_IMAGES.format(username=USERNAME, password=PASSWORD, images=self.images)
        self.manage("shell", "-c", script)
        self._spawn("runserver", f"127.0.0.1:{self.port}", "--noreload", log="runserver.log")
        self._spawn("qcluster", log="qcluster.log")
        self._wait_for_server()
        return self

    def _spawn(self, *args, log):
        handle = open(self.workdir / log, "w")  # noqa: SIM115 - closed when the process is stopped
        process = subprocess.Popen(
            [sys.executable, str(MANAGE), *args],
            env=self.env,
            cwd=MANAGE.parent,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes.append((process, handle))

    def _wait_for_server(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/admin/login/", timeout=2)
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"The example site did not start: see {self.workdir / 'runserver.log'}")

    def stop_worker(self):
        """Stop the qcluster (the site stays up), as when a server's worker is not running."""
        for process, handle in list(self.processes):
            if "qcluster" in process.args:
                try:
                    os.killpg(process.pid, 15)
                    process.wait(timeout=10)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    os.killpg(process.pid, 9)
                handle.close()
                self.processes.remove((process, handle))

    def stop(self):
        for process, handle in reversed(self.processes):
            # Only the processes this helper started, each in its own session with its children.
            try:
                os.killpg(process.pid, 15)
                process.wait(timeout=5)  # a worker in the middle of a batch is killed: the test is over
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, 9)
            handle.close()

    def log(self, name):
        path = self.workdir / name
        return path.read_text() if path.exists() else ""
