"""Video tagging speed: seconds of video tagged per wall-clock second, end to end.

Encodes slideshows of the clothing validation photographs with PyAV: each photo letterboxed on
black and on screen for a few seconds, zooming in slowly so that every frame differs and decoding
costs about what it costs for filmed footage (``--still`` for still frames). Each is stored as a
wagtailmedia ``Media`` video, and ``tagging.tag_asset`` is timed on it with an empty embedding
cache: hash the file, sample frames across the video (``ml.video.sample_frames``: at most 16,
by seeking), embed and label them with the default backbone, apply the trained tag model
(``Clothing``, 10 examples per tag from ``clothing/train``) and the generic tags, write the
smart tags and the state.

The split is timed inside that same run, by wrapping the reader child's job (frames are sampled
there, ``isolation``) and the backbone's embedding: "sampling" is decoding the frames in the
child and handing them back, "embed" the network on them, and "other" the rest (hashing the
file, reading the cache, classifiers, database writes).

Each video shows its photos in a shuffled order (a fixed cycle of classes would alias with the
evenly spaced samples); the tags can be judged against the classes it shows, and the trained
model's verdict on each sampled frame against the photo on screen.

The videos (H.264 with x264's "veryfast" preset, CRF 23, its default GOP of 250 frames unless
said otherwise):

* 30 s, 1280x720, 25 fps, MP4, shoes;
* 5 min, 640x480, 25 fps, MP4, T-shirts;
* 1 h, 640x480, MP4, every class, at 1 fps with a GOP of 250 frames (a keyframe every 250 s)
  so that it stays cheap to encode: after each seek the decoder may still have to decode up
  to 250 frames, as in a 25 fps film with a 10 s GOP;
* 30 s, 640x480, 25 fps, Motion JPEG in QuickTime (.mov), pants (every frame a keyframe);
* 30 s, 640x480, 25 fps, MPEG-4 Part 2 in AVI, hats.

A run takes about three minutes on two cores, most of it encoding; ``--quick`` shortens the
videos (2 min, 20 min, 10 s) and takes under two.

    python bench/video.py [--quick] [--still] [--json]
"""

import argparse
import os
import random
import time
from collections import Counter
from dataclasses import dataclass, replace
from fractions import Fraction
from unittest import mock

from _django import publish, require_dataset, setup_django

# Each photo zooms in slowly: 10% of the frame's width and height over its time on screen, so every
# frame differs and decoding costs what it costs for filmed footage (a still slideshow is nearly free).
ZOOM = 0.1

CLASSES = ["dress", "hat", "longsleeve", "outwear", "pants", "shirt", "shoes", "shorts", "skirt", "t-shirt"]


@dataclass(frozen=True)
class VideoSpec:
    name: str
    fmt: str
    codec: str
    pixel_format: str
    size: tuple
    fps: Fraction
    seconds: int
    seconds_per_photo: int
    classes: tuple
    gop: int | None = None
    bit_rate: int | None = None


def video_specs(quick):
    short = 10 if quick else 30
    return [
        VideoSpec("slideshow-30s-720p.mp4", "mp4", "libx264", "yuv420p", (1280, 720), Fraction(25), 30, 3,
                  ("shoes",)),
        VideoSpec(f"slideshow-{2 if quick else 5}min-480p.mp4", "mp4", "libx264", "yuv420p", (640, 480),
                  Fraction(25), 120 if quick else 300, 5, ("t-shirt",)),
        VideoSpec(f"slideshow-{20 if quick else 60}min-1fps.mp4", "mp4", "libx264", "yuv420p", (640, 480),
                  Fraction(1), 1200 if quick else 3600, 30, tuple(CLASSES), gop=250),
        VideoSpec(f"slideshow-{short}s-mjpeg.mov", "mov", "mjpeg", "yuvj420p", (640, 480), Fraction(25), short, 3,
                  ("pants",), bit_rate=12_000_000),
        VideoSpec(f"slideshow-{short}s-mpeg4.avi", "avi", "mpeg4", "yuv420p", (640, 480), Fraction(25), short, 3,
                  ("hat",), bit_rate=2_000_000),
    ]  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="Shorter videos (2 min, 20 min, 10 s).")
    parser.add_argument("--still", action="store_true", help="Still photos, no zoom: cheaper to encode and decode.")
    parser.add_argument("--json", action="store_true", help="Print the JSON results instead of the table.")
    args = parser.parse_args()
    clothing = require_dataset("clothing")
    workdir = setup_django()

    import av
    from django.core.files import File
    from django.core.management import call_command
    from django.test import override_settings
    from wagtail.models import Collection
    from wagtailmedia.models import get_media_model

    from wagtail_smarttags.conf import get_setting
    from wagtail_smarttags.isolation import get_reader
    from wagtail_smarttags.ml.video import DEFAULT_VIDEO_LIMITS, sample_frames
    from wagtail_smarttags.models import EmbeddingCache, SmartTag, TaggingState, TagModel
    from wagtail_smarttags.pipeline.kinds import content_type_for
    from wagtail_smarttags.pipeline.loading import get_backbone
    from wagtail_smarttags.pipeline.tagging import tag_asset
    from wagtail_smarttags.training.service import request_training

    with override_settings(WAGTAIL_SMARTTAGS={"AUTO_TAG": False}):  # the examples need no tagging
        call_command("smarttags_import_examples", "Clothing", str(clothing / "train"), limit=10, verbosity=0)
    request_training(TagModel.objects.get(title="Clothing"), run_now=True)
    backbone = get_backbone()
    # The limits embeddings.embed_video_file uses (only to describe a file that failed).
    limits = replace(
        DEFAULT_VIDEO_LIMITS,
        max_pixels=get_setting("MAX_IMAGE_PIXELS"),
        target_size=max(get_setting("DECODE_SIZE"), getattr(backbone, "input_size", 0)),
        **get_setting("VIDEO_LIMITS"),
    )
    import torch

    Media = get_media_model()
    content_type = content_type_for(Media)
    root = Collection.get_first_root_node()
    sources = workdir / "videos"
    sources.mkdir()
    results = {
        "backbone": backbone.id,
        "torch_threads": torch.get_num_threads(),
        "cores": os.cpu_count(),
        "pyav": av.__version__,
        "max_frames": limits.max_frames,
        "quick": args.quick,
        "zoom": 0 if args.still else ZOOM,
        "videos": [],
    }
    for spec in video_specs(args.quick):
        path = sources / spec.name
        started = time.perf_counter()
        shown = encode_slideshow(path, spec, clothing / "validation", still=args.still)
        encode_seconds = time.perf_counter() - started
        with override_settings(WAGTAIL_SMARTTAGS={"AUTO_TAG": False}), path.open("rb") as file:
            media = Media(title=spec.name, type="video", collection=root, duration=spec.seconds,
                          width=spec.size[0], height=spec.size[1])  # fmt: skip
            media.file.save(spec.name, File(file, name=spec.name), save=False)
            media.save()
        path.unlink()

        EmbeddingCache.objects.all().delete()
        timer = StepTimer()
        # The split is timed inside the real run: sampling is the reader child's job, embedding the
        # backbone's pass over the prepared frames.
        reader = get_reader()
        with (
            mock.patch.object(reader, "run", timer.wrap("sampling", reader.run)),
            mock.patch.object(backbone, "embed_prepared", timer.wrap("embedding", backbone.embed_prepared)),
            mock.patch.object(backbone, "embed_with_labels", timer.wrap("embedding", backbone.embed_with_labels)),
        ):
            started = time.perf_counter()
            status = tag_asset(content_type.pk, media.pk)
            total_seconds = time.perf_counter() - started
        state = TaggingState.objects.get(content_type=content_type, object_id=media.pk)
        # Sampled again here, untimed, for the frames' times and codec (the child returns pixels only).
        frames = sample_frames(media.file.path, limits)
        sampling_seconds = timer.seconds.get("sampling", 0.0)
        embedding_seconds = timer.seconds.get("embedding", 0.0)
        on_screen = [shown[min(int(when // spec.seconds_per_photo), len(shown) - 1)] for when in frames.timestamps]
        votes = frame_votes(timer.results.get("embedding"), on_screen, backbone.id)

        tags = SmartTag.objects.filter(content_type=content_type, object_id=media.pk).select_related("tag", "label")
        results["videos"].append({
            "name": spec.name,
            "container": spec.fmt,
            "codec": frames.codec,
            "width": spec.size[0],
            "height": spec.size[1],
            "fps": float(spec.fps),
            "gop": spec.gop,
            "content": "+".join(spec.classes),
            "photos": len(shown),
            "seconds_per_photo": spec.seconds_per_photo,
            "duration": frames.duration,
            "file_mib": media.file.size / 2**20,
            "encode_seconds": encode_seconds,
            "frames_sampled": len(frames.images),
            "truncated": frames.truncated,
            "status": status,
            "error": state.error,
            "wall_seconds": total_seconds,
            "sampling_seconds": sampling_seconds,
            "embedding_seconds": embedding_seconds,
            "other_seconds": total_seconds - sampling_seconds - embedding_seconds,
            "video_seconds_per_wall_second": (frames.duration or 0) / total_seconds,
            "frames_on_screen": dict(Counter(on_screen).most_common()),
            **votes,
            "tags": [
                {"name": tag.name, "source": tag.source, "confidence": round(tag.confidence, 3)} for tag in tags
            ],
        })  # fmt: skip
        media.file.delete(save=False)

    publish("video", results, args.json, print_table)


class StepTimer:
    """Wraps functions to add up the seconds spent in each and keep the last result."""

    def __init__(self):
        self.seconds, self.results = {}, {}

    def wrap(self, step, function):
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                result = self.results[step] = function(*args, **kwargs)
                return result
            finally:
                self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - started

        return timed


def frame_votes(embedded, on_screen, backbone_id):
    """What the trained model says of each sampled frame, against the class of the photo on screen."""
    from taggit.models import Tag

    from wagtail_smarttags.pipeline.loading import active_tag_models

    if embedded is None:
        return {}
    vectors, _ = embedded
    (_, _, classifier), *_ = active_tag_models(backbone_id)
    names = dict(Tag.objects.values_list("pk", "name"))
    said = [names[int(p.label)] if p.applied else None for p in classifier.predict(vectors)]
    return {
        "frame_votes": dict(Counter(name or "(none)" for name in said).most_common()),
        "frames_right": sum(name == truth for name, truth in zip(said, on_screen)),
    }


def encode_slideshow(path, spec, validation, still=False):
    """Write ``spec`` to ``path``: photos of ``spec.classes`` in turn, each for ``spec.seconds_per_photo``.

    Each photo zooms in slowly (by ``ZOOM`` over its time on screen) unless ``still``.
    """
    import av
    import numpy as np
    from PIL import Image

    rng = random.Random(0)
    per_class = [sorted((validation / name).glob("*.jpg")) for name in spec.classes]
    chosen = []
    for index in range(-(-spec.seconds // spec.seconds_per_photo)):
        # As many photos of each class, each class cycling through its own photos.
        photos = per_class[index % len(per_class)]
        chosen.append(photos[(index // len(per_class)) % len(photos)])
    # Shuffled: a fixed cycle of classes would alias with the evenly spaced samples.
    rng.shuffle(chosen)
    with av.open(str(path), "w", format=spec.fmt) as container:
        stream = container.add_stream(spec.codec, rate=spec.fps)
        stream.width, stream.height = spec.size
        stream.pix_fmt = spec.pixel_format
        if spec.gop:
            stream.codec_context.gop_size = spec.gop
        if spec.bit_rate:
            stream.bit_rate = spec.bit_rate
        if spec.codec == "libx264":
            stream.options = {"preset": "veryfast", "crf": "23"}
        frames_per_photo = round(spec.seconds_per_photo * spec.fps)
        total = round(spec.seconds * spec.fps)
        index = 0
        width, height = spec.size
        for photo in chosen:
            picture = _letterbox(photo, spec.size)
            frame = av.VideoFrame.from_ndarray(np.asarray(picture), format="rgb24").reformat(format=spec.pixel_format)
            for step in range(min(frames_per_photo, total - index)):
                if not still and step:
                    margin = ZOOM * step / frames_per_photo / 2
                    box = (width * margin, height * margin, width * (1 - margin), height * (1 - margin))
                    zoomed = picture.resize(spec.size, Image.Resampling.BILINEAR, box=box)
                    frame = av.VideoFrame.from_ndarray(np.asarray(zoomed), format="rgb24")
                    frame = frame.reformat(format=spec.pixel_format)
                frame.pts = index
                for packet in stream.encode(frame):
                    container.mux(packet)
                index += 1
        for packet in stream.encode():
            container.mux(packet)
    return [photo.parent.name for photo in chosen]


def _letterbox(path, size):
    from PIL import Image

    canvas = Image.new("RGB", size, (0, 0, 0))
    with Image.open(path) as photo:
        picture = photo.convert("RGB")
    picture.thumbnail(size, Image.Resampling.LANCZOS)
    canvas.paste(picture, ((size[0] - picture.width) // 2, (size[1] - picture.height) // 2))
    return canvas


def print_table(results):
    print(
        f"Video tagging on {results['cores']} cores, {results['torch_threads']} torch thread(s), "
        f"{results['backbone']}, at most {results['max_frames']} frames per video (cold embedding cache), "
        f"{'still photos' if not results['zoom'] else 'zooming photos'}"
    )
    header = (
        f"{'video':<27} {'container/codec':<14} {'size':>9} {'fps':>3} {'duration':>8} {'MiB':>6} {'frames':>6} "
        f"{'sampling':>8} {'embed':>6} {'other':>6} {'total':>6} {'video s/s':>9}"
    )
    print(header)
    print("-" * len(header))
    for video in results["videos"]:
        print(
            f"{video['name']:<27} {video['container'] + '/' + video['codec']:<14} "
            f"{video['width']:>4}x{video['height']:<4} {video['fps']:>3.0f} {video['duration']:>7.1f}s "
            f"{video['file_mib']:>6.1f} {video['frames_sampled']:>6} {video['sampling_seconds']:>7.2f}s "
            f"{video['embedding_seconds']:>5.2f}s {video['other_seconds']:>5.2f}s {video['wall_seconds']:>5.2f}s "
            f"{video['video_seconds_per_wall_second']:>9.1f}"
        )
    print()
    print("Smart tags (content: the classes of the photos shown; source; confidence)")
    for video in results["videos"]:
        tags = ", ".join(f"{tag['name']} ({tag['source']}, {tag['confidence']:.2f})" for tag in video["tags"])
        status = video["status"] if not video["error"] else f"{video['status']}: {video['error']}"
        print(f"{video['name']:<27} [{video['content']}, {video['photos']} photos] {status}: {tags or 'no tags'}")
        if video.get("frame_votes") and len(video["frames_on_screen"]) > 1:
            print(f"{'':<27} frames on screen: {_counts(video['frames_on_screen'])}")
            print(f"{'':<27} trained model per frame: {_counts(video['frame_votes'])}")
    print()
    print("Trained model on each sampled frame: frames whose tag is the class of the photo on screen")
    for video in results["videos"]:
        if "frames_right" in video:
            print(f"{video['name']:<27} {video['frames_right']:>3}/{video['frames_sampled']}")


def _counts(counts):
    return ", ".join(f"{name} {count}" for name, count in counts.items())


if __name__ == "__main__":
    main()
