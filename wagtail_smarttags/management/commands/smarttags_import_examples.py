import hashlib
import io
from pathlib import Path

from django.core.files.images import ImageFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from taggit.models import Tag
from wagtail.images import get_image_model
from wagtail.models import Collection

from wagtail_smarttags.models import TagModelTag, TrainingExample

from ._options import find_tag_model
from ._trees import image_files, read_bounded, tag_folders


class Command(BaseCommand):
    help = (
        "Import example images for a tag model from a folder with one sub-folder per tag. "
        "The images are added to the Wagtail image library and made that tag's examples."
    )

    def add_arguments(self, parser):
        parser.add_argument("model", help="Tag model id or title (created if no model has that title).")
        parser.add_argument("folder", help="Folder containing one sub-folder of images per tag.")
        parser.add_argument("--limit", type=int, default=None, help="At most this many images per tag.")
        parser.add_argument("--collection", default=None, help="Name of the collection to add images to.")

    def handle(self, model, folder, limit=None, collection=None, verbosity=1, **options):
        root = Path(folder)
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder.")
        folders = tag_folders(root, self.stderr.write)
        if not folders:
            raise CommandError(f"{root} has no sub-folders it can use: make one per tag, named after the tag.")
        tag_model = find_tag_model(model, create=True)
        target_collection = self._collection(collection)
        Image = get_image_model()
        existing_hashes = dict(Image.objects.exclude(file_hash="").values_list("file_hash", "pk"))
        for position, (name, tag_folder) in enumerate(folders):
            tag = Tag.objects.filter(name__iexact=name).first() or Tag.objects.create(name=name)
            TagModelTag.objects.get_or_create(tag_model=tag_model, tag=tag, defaults={"sort_order": position})
            files = image_files(tag_folder, root, self.stderr.write, limit=limit)
            added = 0
            for path in files:
                try:
                    data = read_bounded(path)
                except (OSError, ValueError) as error:
                    self.stderr.write(f"Skipping {path}: {error}.")
                    continue
                with transaction.atomic():
                    image = self._image_for(path, data, Image, existing_hashes, target_collection)
                    example = TrainingExample.objects.filter(tag_model=tag_model, image=image).first()
                    if example is None:
                        TrainingExample.objects.create(tag_model=tag_model, tag=tag, image=image)
                        added += 1
                    elif example.tag_id != tag.pk:
                        self.stderr.write(
                            f"{path} is already an example of {example.tag.name!r} in this model; "
                            "an image may exemplify only one tag of a model."
                        )
            if verbosity:
                self.stdout.write(f"{tag.name}: {added} new examples ({len(files)} images in {tag_folder})")
        total = tag_model.examples.count()
        self.stdout.write(self.style.SUCCESS(f"Tag model {tag_model.title!r} has {total} examples."))

    def _collection(self, name):
        root = Collection.get_first_root_node()
        if not name:
            return root
        existing = root.get_children().filter(name=name).first()
        return existing or root.add_child(name=name)

    def _image_for(self, path, data, Image, existing_hashes, collection):
        file_hash = hashlib.sha1(data).hexdigest()
        if file_hash in existing_hashes:
            return Image.objects.get(pk=existing_hashes[file_hash])
        # From the bytes read: the path may have changed since (a link swapped in).
        image = Image(title=path.stem, collection=collection, file_hash=file_hash)
        image.file = ImageFile(io.BytesIO(data), name=path.name)
        image.file_size = len(data)
        image.save()
        existing_hashes[file_hash] = image.pk
        return image
