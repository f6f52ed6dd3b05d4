"""Tagging throughput on this machine: end to end against the bare backbone, and a worker's peak memory.

1. Bare forward: the backbone's network alone on already decoded and preprocessed images,
   one image per call as the worker tags one asset per task.
2. End to end: ``tagging.tag_asset`` for the same images stored as Wagtail images, with an
   empty embedding cache: read the file, hash, decode, preprocess, forward, apply every
   trained tag model, write the smart tags and the state.
   The overhead ratio is end-to-end seconds / bare-forward seconds.
3. A real worker: ``manage.py qcluster`` tags freshly uploaded images from the ORM queue;
   we record its wall-clock rate and the peak resident memory (VmHWM) of its processes.

    python bench/throughput.py [--images 64] [--json]
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from _django import REPOSITORY, publish, require_dataset, setup_django


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--worker-images", type=int, default=40)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    clothing = require_dataset("clothing")
    workdir = setup_django()

    from django.core.files.images import ImageFile
    from django.core.management import call_command
    from django.test import override_settings
    from wagtail.images import get_image_model

    from wagtail_smarttags.assets import content_type_for
    from wagtail_smarttags.backbones import get_backbone
    from wagtail_smarttags.embeddings import decode_for_backbone
    from wagtail_smarttags.models import EmbeddingCache, TagModel
    from wagtail_smarttags.tagging import tag_asset
    from wagtail_smarttags.training import request_training

    call_command("smarttags_import_examples", "Clothing", str(clothing / "train"), limit=10, verbosity=0)
    request_training(TagModel.objects.get(title="Clothing"), run_now=True)

    paths = sorted((clothing / "validation").glob("*/*.jpg"))[: args.images]
    backbone = get_backbone()
    import torch

    decoded = [decode_for_backbone(path.read_bytes(), backbone) for path in paths]
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

    Image = get_image_model()
    with override_settings(WAGTAIL_SMARTTAGS={"AUTO_TAG": False}):
        images = [
            Image.objects.create(title=path.stem, file=ImageFile(path.open("rb"), name=path.name)) for path in paths
        ]
    EmbeddingCache.objects.exclude(file_hash__in=[]).filter(
        file_hash__in=[image.get_file_hash() for image in images]
    ).delete()
    content_type = content_type_for(Image)
    started = time.perf_counter()
    for image in images:
        tag_asset(content_type.pk, image.pk)
    end_to_end_seconds = time.perf_counter() - started

    worker = run_worker(workdir, clothing, args.worker_images)
    results = {
        "backbone": backbone.id,
        "torch_threads": torch.get_num_threads(),
        "images": len(paths),
        "bare_forward_images_per_second": len(paths) / bare_seconds,
        "bare_forward_batch16_images_per_second": 1 / bare16_per_image,
        "end_to_end_images_per_second": len(paths) / end_to_end_seconds,
        "overhead_ratio": end_to_end_seconds / bare_seconds,
        "worker": worker,
    }
    publish("throughput", results, args.json, print_table)


def print_table(results):
    worker = results["worker"]
    print(f"Throughput of {results['backbone']} on {os.cpu_count()} cores, {results['images']} images")
    print(f"{'bare forward, 1 image per call':<44} {results['bare_forward_images_per_second']:>8.1f} images/s")
    batch16 = results["bare_forward_batch16_images_per_second"]
    print(f"{'bare forward, 16 images per call':<44} {batch16:>8.1f} images/s")
    print(f"{'end to end (tag_asset, cold cache)':<44} {results['end_to_end_images_per_second']:>8.1f} images/s")
    print(f"{'overhead ratio (end to end / bare)':<44} {results['overhead_ratio']:>8.2f}")
    print(f"{'real worker (qcluster, ORM broker)':<44} {worker['images_per_second']:>8.1f} images/s")
    print(f"{'worker peak memory (largest process)':<44} {worker['peak_rss_mib']:>8.0f} MiB")


def run_worker(workdir, clothing, count):
    """Queue ``count`` uploads, then time a real worker through them and sample its memory."""
    from django.core.files.images import ImageFile
    from wagtail.images import get_image_model

    from wagtail_smarttags.models import TaggingState

    paths = sorted((clothing / "validation").glob("*/*.jpg"))[-count:]
    Image = get_image_model()
    ids = [Image.objects.create(title=p.stem, file=ImageFile(p.open("rb"), name=p.name)).pk for p in paths]
    pending = TaggingState.objects.filter(object_id__in=ids, status=TaggingState.Status.PENDING)
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY / "example_project")}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=REPOSITORY / "example_project",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    peak = 0
    try:
        while pending.exists() and time.perf_counter() - started < 600:
            peak = max(peak, _peak_rss_kib(process.pid))
            time.sleep(0.5)
        seconds = time.perf_counter() - started
        peak = max(peak, _peak_rss_kib(process.pid))
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {"images": count, "seconds_including_startup": seconds, "images_per_second": count / seconds,
            "peak_rss_mib": peak / 1024}  # fmt: skip


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
