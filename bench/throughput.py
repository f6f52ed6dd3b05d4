"""Tagging throughput on this machine, as ratios to the bare forward pass measured in the same run.

1. Bare forward: the backbone's network alone on already decoded and preprocessed images,
   one image per call (and, for reference, 16 per call), in this process.
2. End to end in-process: the pipeline (``pipeline.tagging.tag_assets``, what cycles and the
   worker run) over the same images stored as Wagtail images, on an empty embedding cache: read,
   hash, decode (in the pipeline's second thread), embed, apply every trained tag model and generic
   tags, write, record. For reference, also ``tag_asset`` called once per image (no batching).
3. A real worker: ``manage.py qcluster`` on the ORM broker. It is started and warmed up on one
   upload (weights loaded), then a burst of uploads is queued at once and timed until every one is
   tagged; twice, so that its peak memory after one burst and after both shows whether memory
   grows with the number of batches. Peak memory is VmHWM of the worker's process tree.

    python bench/throughput.py [--images 64] [--worker-images 64] [--json]
"""

import argparse
import os
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path

from _django import REPOSITORY, publish, require_dataset, setup_django


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--worker-images", type=int, default=64)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    clothing = require_dataset("clothing")
    setup_django()

    from django.core.management import call_command
    from django.test import override_settings

    from wagtail_smarttags.models import TagModel
    from wagtail_smarttags.pipeline.kinds import IMAGE, content_type_for, get_asset_kind
    from wagtail_smarttags.pipeline.kinds.images import decode_for_backbone
    from wagtail_smarttags.pipeline.loading import get_backbone
    from wagtail_smarttags.pipeline.tagging import tag_asset, tag_assets
    from wagtail_smarttags.training.service import request_training

    with override_settings(WAGTAIL_SMARTTAGS={"AUTO_TAG": False}):  # examples are not uploads to time
        call_command("smarttags_import_examples", "Clothing", str(clothing / "train"), limit=10, verbosity=0)
    request_training(TagModel.objects.get(title="Clothing"), run_now=True)
    import torch

    validation = sorted((clothing / "validation").glob("*/*.jpg"))
    paths = validation[: args.images]
    backbone = get_backbone()
    decoded = [decode_for_backbone(path, backbone) for path in paths]
    batches = [backbone.preprocess([image]) for image in decoded]
    backbone.forward(batches[0])  # load weights and warm up
    started = time.perf_counter()
    for batch in batches:
        backbone.forward(batch)
    bare_seconds = time.perf_counter() - started
    batch16 = backbone.preprocess(decoded[:16])
    started = time.perf_counter()
    backbone.forward(batch16)
    bare16_per_image = (time.perf_counter() - started) / 16
    bare_rate = len(paths) / bare_seconds

    kind = get_asset_kind(IMAGE)
    with override_settings(WAGTAIL_SMARTTAGS={"AUTO_TAG": False}):
        pipeline_images = create_images(paths, "pipeline")
        one_by_one_images = create_images(paths, "single")  # the same photos again, as other files
    forget_embeddings(pipeline_images + one_by_one_images)
    started = time.perf_counter()
    tag_assets(kind, [image.pk for image in pipeline_images])
    pipeline_seconds = time.perf_counter() - started
    content_type = content_type_for(kind.get_model())
    forget_embeddings(one_by_one_images)
    started = time.perf_counter()
    for image in one_by_one_images:
        tag_asset(content_type.pk, image.pk)
    one_by_one_seconds = time.perf_counter() - started

    worker = run_worker(validation[-args.worker_images :])
    pipeline_rate = len(paths) / pipeline_seconds
    results = {
        "backbone": backbone.id,
        "torch_threads": torch.get_num_threads(),
        "cores": os.cpu_count(),
        "images": len(paths),
        "bare_forward_images_per_second": bare_rate,
        "bare_forward_batch16_images_per_second": 1 / bare16_per_image,
        "end_to_end_images_per_second": pipeline_rate,
        "end_to_end_ratio": pipeline_rate / bare_rate,
        "one_by_one_images_per_second": len(paths) / one_by_one_seconds,
        "worker": worker,
        "worker_ratio": worker["images_per_second"] / bare_rate,
    }
    publish("throughput", results, args.json, print_table)


def create_images(paths, prefix):
    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    Image = get_image_model()
    images = []
    for path in paths:
        # Bytes appended after the JPEG's end: another file, so no embedding is shared between the runs.
        data = path.read_bytes() + prefix.encode()
        file = ImageFile(BytesIO(data), name=f"{prefix}-{path.name}")
        images.append(Image.objects.create(title=path.stem, file=file))
    return images


def forget_embeddings(images):
    from wagtail_smarttags.models import EmbeddingCache

    EmbeddingCache.objects.filter(file_hash__in=[image.get_file_hash() for image in images]).delete()


def print_table(results):
    worker = results["worker"]
    threads = results['torch_threads']
    print(f"Throughput of {results['backbone']} on {results['cores']} cores, {threads} torch thread(s)")
    rows = [
        ("bare forward, 1 image per call", f"{results['bare_forward_images_per_second']:.1f} images/s", "1.00"),
        ("bare forward, 16 images per call", f"{results['bare_forward_batch16_images_per_second']:.1f} images/s",
         f"{results['bare_forward_batch16_images_per_second'] / results['bare_forward_images_per_second']:.2f}"),
        ("end to end in-process (pipeline, cold cache)", f"{results['end_to_end_images_per_second']:.1f} images/s",
         f"{results['end_to_end_ratio']:.2f}"),
        ("  tag_asset once per image, for reference", f"{results['one_by_one_images_per_second']:.1f} images/s",
         f"{results['one_by_one_images_per_second'] / results['bare_forward_images_per_second']:.2f}"),
        (f"real worker (qcluster, ORM broker, {worker['images']} x {worker['bursts']} uploads)",
         f"{worker['images_per_second']:.1f} images/s", f"{results['worker_ratio']:.2f}"),
        ("  worker start-up: launch to its first upload tagged", f"{worker['startup_seconds']:.1f} s", ""),
    ]  # fmt: skip
    print(f"{'measure':<58} {'rate':>14} {'x bare':>7}")
    for name, rate, ratio in rows:
        print(f"{name:<58} {rate:>14} {ratio:>7}")
    peaks = ", ".join(f"{peak:.0f}" for peak in worker["peak_rss_mib_after_each_burst"])
    print(f"{'worker peak memory after each burst (largest process)':<58} {peaks:>14} MiB")


def run_worker(paths, bursts=2):
    """Start a real worker, warm it up, then time bursts of queued uploads; sample its memory."""
    from django.test import override_settings

    from wagtail_smarttags.models import TaggingState
    from wagtail_smarttags.moderation import retag_assets

    with override_settings(WAGTAIL_SMARTTAGS={"AUTO_TAG": False}):
        warm_up = create_images(paths[:1], "warm")
        groups = [create_images(paths, f"burst{number}") for number in range(bursts)]
    # The daily tagging cycle's schedule (made by migrate) would tag every image here at start-up.
    from django_q.models import Schedule

    Schedule.objects.all().delete()
    env = {**os.environ, "PYTHONPATH": f"{REPOSITORY}:{REPOSITORY / 'example_project'}"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=REPOSITORY / "example_project",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    seconds, peaks = [], []
    try:
        retag_assets(warm_up)
        wait_for_tags(warm_up, process)
        startup = time.perf_counter() - started
        for group in groups:
            forget_embeddings(group)  # every burst is decoded and embedded: nothing comes from the cache
            burst_started = time.perf_counter()
            retag_assets(group)  # marks them pending and queues one task each, as uploads do
            wait_for_tags(group, process)
            seconds.append(time.perf_counter() - burst_started)
            peaks.append(_peak_rss_kib(process.pid) / 1024)
    finally:
        process.terminate()
        process.wait(timeout=30)
    count = len(paths)
    states = TaggingState.objects.filter(object_id__in=[image.pk for group in groups for image in group])
    return {
        "images": count,
        "bursts": bursts,
        "burst_seconds": seconds,
        "images_per_second": count * bursts / sum(seconds),
        "startup_seconds": startup,
        "peak_rss_mib_after_each_burst": peaks,
        "done": states.filter(status="done").count(),
    }


def wait_for_tags(images, process, timeout=900):
    from wagtail_smarttags.models import TaggingState

    pending = TaggingState.objects.filter(object_id__in=[image.pk for image in images]).exclude(status="done")
    deadline = time.perf_counter() + timeout
    while pending.exists() or TaggingState.objects.filter(object_id__in=[i.pk for i in images]).count() < len(images):
        if time.perf_counter() > deadline or process.poll() is not None:
            raise SystemExit("The worker did not tag the uploads in time.")
        time.sleep(0.05)


def _peak_rss_kib(root_pid):
    """The largest VmHWM among the worker's process tree."""
    peak = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        pid, ppid = int(fields["Pid"]), int(fields["PPid"])
        if pid == root_pid or ppid == root_pid or _is_descendant(ppid, root_pid):
            peak = max(peak, int(fields.get("VmHWM", "0 kB").split()[0]))
    return peak


def _is_descendant(pid, root_pid, depth=3):
    for _ in range(depth):
        if pid in (0, 1):
            return False
        if pid == root_pid:
            return True
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return False
        pid = int(next(line for line in status.splitlines() if line.startswith("PPid:")).split()[1])
    return False


if __name__ == "__main__":
    main()
