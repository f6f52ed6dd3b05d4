"""The end-to-end demo: train a tag model, upload unseen images and a video, run the worker, show their smart tags."""

import importlib.util
import io
import os
import random
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.images import ImageFile
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from wagtail.images import get_image_model
from wagtail.models import Collection

from wagtail_smarttags.models import SmartTag, TaggingState, TagModel, TrainingVersion
from wagtail_smarttags.pipeline.kinds import get_media_model_or_none
from wagtail_smarttags.training.service import request_training

REPOSITORY = Path(settings.BASE_DIR).parent
DEFAULT_DATASETS = [REPOSITORY.parent / "shared" / "datasets" / "clothing", REPOSITORY / "demo-data" / "clothing"]
MODEL_TITLE = "Clothing (demo)"
UPLOADS = "Smart tags demo uploads"
HOW_TO_GET_IMAGES = """No example images found. The demo needs a folder with train/<tag>/*.jpg and
validation/<tag>/*.jpg, e.g. the CC0 "clothing dataset (small)":

    git clone https://github.com/alexeygrigorev/clothing-dataset-small demo-data/clothing
    (its folders are train/, validation/ and test/, one sub-folder per garment)

then run the demo again, or point it anywhere with SMARTTAGS_DEMO_DATASET=/path/to/folder."""


class Command(BaseCommand):
    help = "Train a tag model on example images, upload unseen images, run a worker and print their smart tags."

    def add_arguments(self, parser):
        parser.add_argument("--dataset", default=os.environ.get("SMARTTAGS_DEMO_DATASET"))
        parser.add_argument("--examples", type=int, default=30, help="Example images per tag (10 to 50).")
        parser.add_argument("--uploads", type=int, default=3, help="Unseen images uploaded per tag.")
        parser.add_argument("--timeout", type=int, default=900, help="Seconds to wait for the worker.")

    def handle(self, dataset=None, examples=30, uploads=3, timeout=900, **options):
        root = self._dataset(dataset)
        self._reset()
        self.stdout.write(self.style.MIGRATE_HEADING(f"1. Importing {examples} example images per tag from {root}"))
        call_command("smarttags_import_examples", MODEL_TITLE, str(root / "train"), limit=examples, verbosity=1)
        tag_model = TagModel.objects.get(title=MODEL_TITLE)

        self.stdout.write(self.style.MIGRATE_HEADING("2. Queuing training and uploading unseen images"))
        version = request_training(tag_model)
        uploaded = self._upload(root / "validation", uploads)
        video = self._upload_video(root / "validation")
        pending = TaggingState.objects.filter(status=TaggingState.Status.PENDING).count()
        what = f"{len(uploaded)} images" + (" and a video" if video else "")
        self.stdout.write(f"Training v{version.number} queued; {what} uploaded, {pending} pending.")

        self.stdout.write(self.style.MIGRATE_HEADING("3. Running a worker (manage.py qcluster) until all is done"))
        started = time.monotonic()
        self._run_worker_until_done(version, uploaded + ([video] if video else []), timeout)
        self.stdout.write(f"Worker finished in {time.monotonic() - started:.0f} s.")

        self.stdout.write(self.style.MIGRATE_HEADING("4. Smart tags of the unseen images"))
        self._report(tag_model, uploaded)
        if video:
            self._report_video(*video)

    def _dataset(self, dataset):
        candidates = [Path(dataset)] if dataset else DEFAULT_DATASETS
        for candidate in candidates:
            if (candidate / "train").is_dir() and (candidate / "validation").is_dir():
                return candidate
        raise CommandError(HOW_TO_GET_IMAGES)

    def _reset(self):
        """Start from a clean slate so the demo can be run again."""
        TagModel.objects.filter(title=MODEL_TITLE).delete()
        Image = get_image_model()
        media_model = get_media_model_or_none()
        for collection in Collection.objects.filter(name=UPLOADS):
            for image in Image.objects.filter(collection=collection):
                image.delete()
            for media in media_model.objects.filter(collection=collection) if media_model else []:
                media.delete()

    def _collection(self):
        root = Collection.get_first_root_node()
        return root.get_children().filter(name=UPLOADS).first() or root.add_child(name=UPLOADS)

    def _upload(self, folder, per_tag):
        collection = self._collection()
        Image = get_image_model()
        rng = random.Random(0)
        uploaded = []
        for tag_folder in sorted(p for p in folder.iterdir() if p.is_dir()):
            for path in rng.sample(sorted(tag_folder.glob("*.jpg")), per_tag):
                image = Image(
                    title=f"{tag_folder.name} {path.stem[:8]}",
                    collection=collection,
                    file=ImageFile(io.BytesIO(path.read_bytes()), name=path.name),
                )
                image.save()
                uploaded.append((tag_folder.name, image))
        return uploaded

    def _upload_video(self, folder, garment="pants", photos=5):
        """A 10-second slideshow of unseen photos of one garment, encoded to H.264 with PyAV, as a video."""
        media_model = get_media_model_or_none()
        if media_model is None or importlib.util.find_spec("av") is None:
            self.stdout.write("wagtailmedia or PyAV is not installed: no video in this demo.")
            return None
        import av
        from PIL import Image as PILImage

        paths = sorted((folder / garment).glob("*.jpg"))[-photos:]
        buffer = io.BytesIO()
        with av.open(buffer, "w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = 480, 640, "yuv420p"
            for index, path in enumerate(paths):
                picture = PILImage.open(path).convert("RGB").resize((480, 640))
                for repeat in range(50):  # two seconds on screen
                    frame = av.VideoFrame.from_image(picture)
                    frame.pts = index * 50 + repeat
                    container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        media = media_model(title=f"{garment} slideshow", type="video", collection=self._collection())
        media.file.save(f"{garment}-slideshow.mp4", ContentFile(buffer.getvalue()), save=False)
        media.save()
        return garment, media

    def _report_video(self, truth, media):
        content_type = ContentType.objects.get_for_model(type(media))
        tags = SmartTag.objects.filter(content_type=content_type, object_id=media.pk).select_related("tag", "label")
        state = TaggingState.objects.get(content_type=content_type, object_id=media.pk)
        self.stdout.write(self.style.MIGRATE_HEADING("5. Smart tags of a 10-second video of unseen photos"))
        self.stdout.write(f"{media.title} (truth: {truth}, {state.status}): {_describe(tags) or state.error}")

    def _run_worker_until_done(self, version, uploaded, timeout):
        manage = Path(settings.BASE_DIR) / "manage.py"
        waiting_for = [(ContentType.objects.get_for_model(type(asset)), asset.pk) for _, asset in uploaded]
        worker = subprocess.Popen([sys.executable, str(manage), "qcluster"], cwd=settings.BASE_DIR)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if worker.poll() is not None:
                    raise CommandError(f"The worker exited with code {worker.returncode}.")
                version.refresh_from_db()
                waiting = sum(
                    TaggingState.objects.filter(
                        content_type=content_type, object_id=object_id, status=TaggingState.Status.PENDING
                    ).exists()
                    for content_type, object_id in waiting_for
                )
                trained = version.status in (TrainingVersion.Status.SUCCEEDED, TrainingVersion.Status.FAILED)
                if trained and not waiting:
                    # Uploads tagged before the model finished training are re-tagged from the cache by it.
                    time.sleep(3)
                    return
                time.sleep(1)
            raise CommandError(f"The worker did not finish within {timeout} s.")
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()

    def _report(self, tag_model, uploaded):
        tag_model.refresh_from_db()
        if tag_model.status != TagModel.Status.TRAINED:
            raise CommandError(f"Training failed: {tag_model.status_message}")
        content_type = ContentType.objects.get_for_model(get_image_model())
        correct = 0
        self.stdout.write(f"{'image':<28} {'truth':<12} smart tags (confidence); generic tags in [brackets]")
        for truth, image in uploaded:
            tags = SmartTag.objects.for_asset(image).select_related("tag", "label")
            state = TaggingState.objects.get(content_type=content_type, object_id=image.pk)
            shown = _describe(tags) or f"none ({state.status})"
            hit = any(t.source == SmartTag.Source.TRAINED and t.name == truth for t in tags)
            correct += hit
            self.stdout.write(f"{image.title:<28} {truth:<12} {shown}  {'✓' if hit else '✗'}")
        self.stdout.write(
            self.style.SUCCESS(f"{correct} of {len(uploaded)} unseen images got their true tag from the tag model.")
        )
        self.stdout.write("Browse them: make serve, then http://127.0.0.1:8000/admin/ (admin / changeme).")


def _describe(smart_tags):
    """Trained and keyword tags first, then generic tags in brackets: the moderation screen shows them apart."""
    own = [f"{t.name} ({t.confidence:.2f})" for t in smart_tags if t.source != SmartTag.Source.GENERIC]
    generic = [f"{t.name} ({t.confidence:.2f})" for t in smart_tags if t.source == SmartTag.Source.GENERIC]
    return ", ".join(own + ([f"[{', '.join(generic)}]"] if generic else []))
