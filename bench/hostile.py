"""A hostile corpus through the real upload views and a real worker, with its memory and time watched.

Every crafted file (the test suite's hostile images and videos, and documents made to hurt: PDF
flate and object-stream bombs, deeply nested PDF objects, zip archives of a million members or a
lying directory, a DOCX whose XML is one 200 MB line, a PPTX of 50,000 slides, RTF, SRT and HTML
floods, 4 GB sparse files, an MP4 with a huge moov atom) is uploaded through Wagtail's own add
views (wagtailmedia's for videos), as an editor would, with a good asset of the same kind
uploaded beside it so that both are tagged in the same batch. A real ``qcluster`` on the ORM
broker tags them; the benchmark waits for each, and samples the resident memory of the worker
process and of its reader child every 20 ms meanwhile.

A 4 GB file cannot go through Django's test client (it builds the request body in memory): the
sparse files are written into the media folder and saved as assets, which queues them exactly as
an upload does.

Per file it prints the outcome (refused by Wagtail's form, failed with the recorded message,
skipped, or tagged), the seconds from upload to the recorded outcome, and the peak memory of the
worker and of the child while it was being read. Goals: the worker stays under 1 GiB throughout,
every file is done within the reader's time limit + 5 s, the worker is alive at the end, and the
smart tags of the good assets are the same after the corpus as before, and each copy tagged
beside a hostile file gets what a copy tagged alone got.

    python bench/hostile.py [--json]
"""

import argparse
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from _django import REPOSITORY, publish, require_dataset, setup_django

MiB = 1024 * 1024
GiB = 1024 * MiB
WORKER_LIMIT_MIB = 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    clothing = require_dataset("clothing")
    workdir = setup_django()
    sys.path.insert(0, str(REPOSITORY))

    from django.core.management import call_command
    from django.test import override_settings
    from django_q.models import Schedule

    from wagtail_smarttags.conf import get_setting
    from wagtail_smarttags.models import TagModel
    from wagtail_smarttags.training.service import request_training

    with override_settings(WAGTAIL_SMARTTAGS={"AUTO_TAG": False}):
        call_command("smarttags_import_examples", "Clothing", str(clothing / "train"), limit=10, verbosity=0)
    request_training(TagModel.objects.get(title="Clothing"), run_now=True)
    Schedule.objects.all().delete()  # the daily cycle would tag the examples at start-up
    time_limit = get_setting("READER_MAX_SECONDS")

    corpus = hostile_corpus(workdir / "corpus", clothing)
    client = editor_client()
    worker = Worker()
    try:
        worker.wait_ready()
        good = {kind: (name, upload(client, kind, name, data)[1]) for kind, (name, data) in good_files(clothing).items()}  # noqa: E501
        wait_for([asset for _, asset in good.values()], worker)
        before = {kind: smart_tags(asset) for kind, (_, asset) in good.items()}
        # What a twin of each good file gets when nothing hostile is beside it. (Not always the
        # original's tags: a document's keywords become taxonomy tags, preferred in later documents.)
        calibration = {kind: upload(client, kind, f"calibration-{name}", good_files_cache(kind, good))[1]
                       for kind, (name, _) in good.items()}  # fmt: skip
        wait_for(list(calibration.values()), worker)
        expected = {kind: smart_tags(asset) for kind, asset in calibration.items()}
        rows = []
        for number, (kind, name, data) in enumerate(corpus, 1):
            rows.append(run_file(client, worker, kind, name, data, good, expected, time_limit, number))
            print(f"{number:>3}/{len(corpus)} {rows[-1]['kind']:<8} {name:<34} {rows[-1]['outcome']:<9} "
                  f"{rows[-1]['seconds']:6.1f} s", file=sys.stderr)  # fmt: skip
        final_name, final_data = good_files(clothing)["image"]
        _, final = upload(client, "image", "after-" + final_name, final_data)
        wait_for([final], worker)
        alive = worker.alive() and smart_tags(final) == expected["image"]
        after = {kind: smart_tags(asset) for kind, (_, asset) in good.items()}
    finally:
        worker.stop()
    results = summarise(rows, before, after, alive, time_limit, worker)
    publish("hostile", results, args.json, print_table)


# The corpus ---------------------------------------------------------------------------------------


def hostile_corpus(folder, clothing):
    """``[(kind, name, bytes or a Path of a sparse file)]``: at least 60 files."""
    from tests import badfiles
    from tests.baddocuments import (
        docx_of_one_line,
        html_nested,
        pdf_deeply_nested,
        pdf_flate_bomb,
        pdf_object_stream_bomb,
        pptx_with_slides,
        rtf_flood,
        srt_flood,
        zip_with_members,
    )
    from tests.ml.test_text_extraction import make_pdf
    from tests.pipeline.test_hostile_uploads import BAD_DOCUMENTS, bad_videos
    from tests.videos import encode_video, grey_levels

    folder.mkdir(parents=True, exist_ok=True)
    files = [("image", path.name, path.read_bytes()) for path in badfiles.write_all(folder / "images").values()]
    files += [("document", name, data) for name, data in BAD_DOCUMENTS.items()]
    documents = {
        "flate-bomb-1gb.pdf": pdf_flate_bomb(1 * GiB),
        "object-stream-bomb-1gb.pdf": pdf_object_stream_bomb(1 * GiB),
        "nested-200k.pdf": pdf_deeply_nested(200_000),
        "pages-5000.pdf": make_pdf([[f"Page {page} of a very long report"] for page in range(5000)]),
        "members-1m.docx": zip_with_members(1_000_000),
        "members-1.8m.docx": zip_with_members(1_800_000),
        "lying-directory.docx": zip_with_members(400_000, declared_count=5),
        "one-line-200mb.docx": docx_of_one_line(199 * MiB),
        "slides-50k.pptx": pptx_with_slides(50_000),
        "flood-20mb.rtf": rtf_flood(20 * MiB),
        "flood-60mb.rtf": rtf_flood(60 * MiB),
        "flood-50mb.srt": srt_flood(50 * MiB),
        "nested-6m.html": html_nested(6_000_000),
        "tags-20mb.html": b"<html><body>" + b"<b><i>x</i></b>" * (20 * MiB // 15) + b"</body></html>",
    }
    files += [("document", name, data) for name, data in documents.items()]
    files += [("document", "sparse-4gb.txt", sparse_file(folder / "sparse-4gb.txt", 4 * GiB))]
    files += [("document", "sparse-4gb.pdf", sparse_file(folder / "sparse-4gb.pdf", 4 * GiB, b"%PDF-1.7\n"))]
    files += [("video", name, data) for name, data in bad_videos().items()]
    clip = encode_video(grey_levels(8), gop=4)
    files += [("video", "huge-moov.mp4", huge_moov(clip))]
    files += [("video", "sparse-4gb.mp4", sparse_file(folder / "sparse-4gb.mp4", 4 * GiB - 1, clip[:4096]))]
    return files


def sparse_file(path, size, head=b""):
    with open(path, "wb") as file:
        file.write(head)
        file.truncate(size)
    return path


def huge_moov(clip):
    """An MP4 whose moov atom declares 3 GB and holds a sample-size table of 100 million entries."""
    import struct

    ftyp = clip[: struct.unpack(">I", clip[:4])[0]]
    stsz = struct.pack(">I4sIII", 20 + 4 * 4096, b"stsz", 0, 0, 100_000_000) + b"\0\0\0\1" * 4096
    trak = struct.pack(">I4s", 8 + len(stsz), b"trak") + stsz
    return ftyp + struct.pack(">I4s", 3_000_000_000, b"moov") + trak + b"\0" * 65536


def good_files(clothing):
    from tests.videos import encode_video

    photo = sorted((clothing / "validation" / "hat").glob("*.jpg"))[0]
    text = (
        "Solar panels on school roofs reduce energy bills. Solar panels pay for themselves within a decade, "
        "and rooftop gardens cool the classrooms in summer."
    )
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200), (200, 200, 30)]
    return {
        "image": ("good-" + photo.name, photo.read_bytes()),
        "document": ("good-solar.txt", text.encode()),
        "video": ("good-clip.mp4", encode_video(colours, size=(160, 96))),
    }


# Uploads, as an editor does them -----------------------------------------------------------------


def editor_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="bench-editor", defaults={"is_superuser": True,
                                                                                       "is_staff": True})  # fmt: skip
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def upload(client, kind, name, data):
    """``(refusal message or "", asset or None)`` after posting ``data`` to the kind's add view."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    if isinstance(data, Path):
        return "", stored_asset(kind, name, data)
    if kind == "video":
        from wagtailmedia.models import get_media_model

        fields = {"title": name, "file": SimpleUploadedFile(name, data), "collection": root_id()}
        response = client.post(reverse("wagtailmedia:add", args=("video",)), fields)
        if response.status_code == 302:
            return "", get_media_model().objects.filter(title=name).latest("pk")
        form = response.context.get("form") if response.context else None
        errors = " ".join(form.errors.as_text().split()) if form is not None else ""
        return errors or f"HTTP {response.status_code}, refused by wagtailmedia's form", None
    app = "wagtailimages" if kind == "image" else "wagtaildocs"
    response = client.post(reverse(f"{app}:add_multiple"), {"files[]": SimpleUploadedFile(name, data)})
    if response.status_code != 200:
        return f"HTTP {response.status_code} from Wagtail's upload view", None
    answer = response.json()
    if not answer.get("success"):
        return " ".join(str(answer.get("error_message", "refused")).split())[:160], None
    model = model_of(kind)
    return "", model.objects.get(pk=answer.get("image_id") or answer.get("doc_id"))


def stored_asset(kind, name, path):
    """A file too large for the test client: moved into the media folder and saved as an asset."""
    from django.conf import settings

    folder = {"document": "documents", "video": "media"}[kind]
    target = Path(settings.MEDIA_ROOT) / folder / name
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)
    asset = model_of(kind)(title=name, collection_id=root_id())
    if kind == "video":
        asset.type = "video"
    asset.file.name = f"{folder}/{name}"
    asset.save()
    return asset


def model_of(kind):
    from wagtail.documents import get_document_model
    from wagtail.images import get_image_model

    if kind == "video":
        from wagtailmedia.models import get_media_model

        return get_media_model()
    return {"image": get_image_model, "document": get_document_model}[kind]()


def root_id():
    from wagtail.models import Collection

    return Collection.get_first_root_node().pk


# Waiting and watching ----------------------------------------------------------------------------


class Worker:
    """``manage.py qcluster``, with a thread sampling the memory of its processes every 20 ms."""

    def __init__(self):
        env = {**os.environ, "PYTHONPATH": f"{REPOSITORY}:{REPOSITORY / 'example_project'}"}
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"], cwd=REPOSITORY / "example_project", env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        self.worker_peak = self.child_peak = 0
        self.window_worker = self.window_child = 0
        self.stopping = threading.Event()
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.sampler.start()

    def _sample(self):
        while not self.stopping.is_set():
            worker, child = self.rss_mib()
            self.worker_peak, self.child_peak = max(self.worker_peak, worker), max(self.child_peak, child)
            self.window_worker, self.window_child = max(self.window_worker, worker), max(self.window_child, child)
            time.sleep(0.02)

    def rss_mib(self):
        """Resident memory of the largest worker process and of the largest reader child, in MiB."""
        worker = child = 0
        for _pid, command, rss in _descendants(self.process.pid):
            if "wagtail_smarttags.isolation.child" in command:
                child = max(child, rss)
            else:
                worker = max(worker, rss)
        return worker / 1024, child / 1024

    def open_window(self):
        self.window_worker = self.window_child = 0

    def alive(self):
        return self.process.poll() is None

    def wait_ready(self):
        time.sleep(3)

    def stop(self):
        self.stopping.set()
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _descendants(root):
    children = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
            command = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        rss = int(fields.get("VmRSS", "0 kB").split()[0] or 0)
        children.setdefault(int(fields["PPid"]), []).append((int(fields["Pid"]), command, rss))
    found, queue = [], [root]
    while queue:
        for entry in children.get(queue.pop(), []):
            found.append(entry)
            queue.append(entry[0])
    return found


def state_of(asset):
    from django.contrib.contenttypes.models import ContentType

    from wagtail_smarttags.models import TaggingState

    content_type = ContentType.objects.get_for_model(asset)
    return TaggingState.objects.filter(content_type=content_type, object_id=asset.pk).first()


def wait_for(assets, worker, timeout=300):
    deadline = time.monotonic() + timeout
    while True:
        states = [state_of(asset) for asset in assets]
        if all(state is not None and state.status != "pending" for state in states):
            return states
        if time.monotonic() > deadline or not worker.alive():
            return states
        time.sleep(0.05)


def smart_tags(asset):
    from tests.helpers import smart_tags_of

    return sorted((row.name, round(row.confidence, 4), row.state) for row in smart_tags_of(asset))


def run_file(client, worker, kind, name, data, good, expected, time_limit, number):
    size = data.stat().st_size if isinstance(data, Path) else len(data)
    worker.open_window()
    started = time.monotonic()
    refusal, asset = upload(client, kind, name, data)
    twin = None
    if asset is not None:
        good_name, good_data = good[kind][0], good_files_cache(kind, good)
        _, twin = upload(client, kind, f"twin{number}-{good_name}", good_data)
    states = wait_for([item for item in (asset, twin) if item is not None], worker, timeout=time_limit + 120)
    seconds = time.monotonic() - started
    row = {"kind": kind, "file": name, "bytes": size, "seconds": round(seconds, 2),
           "worker_peak_mib": round(worker.window_worker), "child_peak_mib": round(worker.window_child)}  # fmt: skip
    if asset is None:
        row.update(outcome="wagtail-500" if refusal.startswith("HTTP 500") else "refused", message=refusal)
        return row
    state = states[0]
    row.update(outcome=state.status if state else "lost", message=(state.error if state else "no tagging state"))
    row["twin_identical"] = twin is not None and smart_tags(twin) == expected[kind]
    if not row["twin_identical"]:
        row["twin_tags"] = smart_tags(twin) if twin is not None else None
    return row


_good_bytes = {}


def good_files_cache(kind, good):
    """The bytes of the good file of ``kind`` (read back from its asset, so the twin is the same file)."""
    if kind not in _good_bytes:
        asset = good[kind][1]
        asset.file.open("rb")
        try:
            _good_bytes[kind] = asset.file.read()
        finally:
            asset.file.close()
    return _good_bytes[kind]


# Results -----------------------------------------------------------------------------------------


def summarise(rows, before, after, alive, time_limit, worker):
    over_time = [row["file"] for row in rows if "twin_identical" in row and row["seconds"] > time_limit + 5]
    twins = [row for row in rows if "twin_identical" in row]
    return {
        "files": len(rows),
        "time_limit_seconds": time_limit,
        "outcomes": dict(sorted(Counter(row["outcome"] for row in rows).items())),
        "worker_peak_mib": round(worker.worker_peak),
        "child_peak_mib": round(worker.child_peak),
        "worker_under_1_gib": worker.worker_peak <= WORKER_LIMIT_MIB,
        "over_time_limit": over_time,
        "worker_alive_at_end": alive,
        "good_assets_unchanged": before == after,
        "twins_identical": f"{sum(row['twin_identical'] for row in twins)}/{len(twins)}",
        "lost": [row["file"] for row in rows if row["outcome"] in ("pending", "lost")],
        "rows": rows,
    }


def print_table(results):
    print(f"{'kind':<8} {'file':<36} {'outcome':<9} {'seconds':>7} {'worker':>7} {'child':>6}  message")
    for row in results["rows"]:
        message = " ".join((row.get("message") or "").split())[:90]
        print(f"{row['kind']:<8} {row['file'][:36]:<36} {row['outcome']:<9} {row['seconds']:>7.1f} "
              f"{row['worker_peak_mib']:>6}M {row['child_peak_mib']:>5}M  {message}")  # fmt: skip
    print()
    outcomes = ", ".join(f"{count} {name}" for name, count in results["outcomes"].items())
    print(f"{results['files']} files: {outcomes}")
    goal = "met" if results["worker_under_1_gib"] else "MISSED"
    print(f"worker peak RSS {results['worker_peak_mib']} MiB (goal <= {WORKER_LIMIT_MIB}: {goal}); "
          f"reader child peak {results['child_peak_mib']} MiB")  # fmt: skip
    print(f"files over the {results['time_limit_seconds']} s limit + 5 s: {results['over_time_limit'] or 'none'}")
    print(f"worker alive at the end: {results['worker_alive_at_end']}; good assets unchanged: "
          f"{results['good_assets_unchanged']}; good twins tagged beside hostile files identical: "
          f"{results['twins_identical']}")  # fmt: skip
    print(f"lost (never recorded): {results['lost'] or 'none'}")


if __name__ == "__main__":
    main()
