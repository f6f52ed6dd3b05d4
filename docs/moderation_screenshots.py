"""Take the screenshots in docs/images/moderation-*.png with headless Chromium.

Usage::

    python docs/moderation_screenshots.py

Runs the example project in this process against a temporary SQLite database and media folder
(SMARTTAGS_SQLITE_PATH / SMARTTAGS_MEDIA_ROOT), with the smart-tag search backend as "default",
fills it with a few labelled photographs from ../shared/datasets/clothing and smart tags written
directly (no ML), and drives Debian's /usr/bin/chromium through Playwright.
"""

import os
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
CLOTHING = Path(os.environ.get("SMARTTAGS_SHARED_DATASETS", ROOT.parent / "shared" / "datasets")) / "clothing"
# (title, garment folder, [(smart tag, confidence)]): a small library for "leather shoes".
LIBRARY = [
    ("Brown leather shoes", "shoes", [("shoes", 0.97), ("leather", 0.81)]),
    ("Product shot 0412", "shoes", [("shoes", 0.95), ("leather", 0.88)]),
    ("Product shot 0413", "shoes", [("shoes", 0.91), ("leather", 0.62)]),
    ("Product shot 0419", "shoes", [("shoes", 0.89), ("canvas", 0.71)]),
    ("Autumn catalogue, page 3", "outwear", [("leather", 0.77), ("jacket", 0.9)]),
    ("Product shot 0420", "hat", [("hat", 0.93), ("shoes", 0.12)]),
    ("Summer hat", "hat", [("hat", 0.96), ("straw", 0.7)]),
    ("Product shot 0501", "dress", [("dress", 0.94), ("cotton", 0.66)]),
]


def configure(workdir):
    os.environ["SMARTTAGS_SQLITE_PATH"] = str(workdir / "db.sqlite3")
    os.environ["SMARTTAGS_MEDIA_ROOT"] = str(workdir / "media")
    os.environ["DJANGO_SETTINGS_MODULE"] = "example_project.settings"
    sys.path[:0] = [str(ROOT), str(ROOT / "example_project")]
    from example_project import settings

    settings.WAGTAILSEARCH_BACKENDS = {
        "default": {
            "BACKEND": "wagtail_smarttags.search.backend",
            "WRAPPED_BACKEND": "wagtail.search.backends.database",
        }
    }
    settings.WAGTAIL_SMARTTAGS = {**settings.WAGTAIL_SMARTTAGS, "AUTO_TAG": False}
    settings.DEBUG = True  # the example project serves media files in DEBUG only
    settings.LOGGING = {"version": 1}
    import django

    django.setup()


def populate():
    from django.contrib.auth import get_user_model
    from django.core.files.images import ImageFile
    from django.core.management import call_command
    from PIL import Image as PILImage
    from wagtail.images import get_image_model
    from wagtail.models import Collection

    from tests.factories import add_smart_tags

    call_command("migrate", verbosity=0, interactive=False)
    get_user_model().objects.create_superuser("admin", "admin@example.com", "changeme")
    used = {}
    images = []
    for title, garment, smart_tags in LIBRARY:
        photos = sorted((CLOTHING / "validation" / garment).glob("*.jpg"))
        path = photos[used.get(garment, 0)]
        used[garment] = used.get(garment, 0) + 1
        width, height = PILImage.open(path).size
        with path.open("rb") as handle:
            image = get_image_model()(
                title=title,
                file=ImageFile(handle, name=path.name),
                width=width,
                height=height,
                collection=Collection.get_first_root_node(),
            )
            image.save()
        add_smart_tags(image, smart_tags)
        images.append(image)
    brown = images[0]
    brown.tags.add("leather", "shoes")
    brown.save()
    return images


def serve():
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
    server.set_app(StaticFilesHandler(get_wsgi_application()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}"


def shoot(base_url, images):
    from playwright.sync_api import sync_playwright

    from tests.browser.chromium import launch
    from wagtail_smarttags.wagtail_hooks import moderation_url

    product_shot = images[1]
    IMAGES.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{base_url}/admin/login/")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "changeme")
        page.click("form button[type=submit]")
        page.wait_for_url(f"{base_url}/admin/")

        page.goto(f"{base_url}/admin/images/{product_shot.pk}/")
        page.wait_for_selector(".smarttags-edit-link")
        page.screenshot(path=IMAGES / "moderation-edit-link.png", clip={"x": 0, "y": 0, "width": 1280, "height": 420})

        page.goto(base_url + moderation_url("image", product_shot.pk))
        page.screenshot(path=IMAGES / "moderation-smart-tags.png", full_page=True)
        page.check("form.smarttags-moderation input[value=promoted] >> nth=0")
        page.check("form.smarttags-moderation input[value=removed] >> nth=1")
        page.click("form.smarttags-moderation button[type=submit]")
        page.wait_for_selector(".messages li.success")
        page.screenshot(path=IMAGES / "moderation-saved.png")

        page.goto(f"{base_url}/admin/images/?q=leather+shoes")
        page.wait_for_selector("#listing-results img")
        page.screenshot(path=IMAGES / "moderation-search.png", full_page=True)

        page.goto(f"{base_url}/admin/images/?layout=list")
        page.locator("input[data-bulk-action-select-all-checkbox]").first.check()
        footer = page.locator("section[data-bulk-action-footer]")
        footer.get_by_role("button", name="More").click()
        page.wait_for_timeout(300)
        page.screenshot(path=IMAGES / "moderation-bulk-actions.png")
        browser.close()


def main():
    with tempfile.TemporaryDirectory(prefix="smarttags-screenshots-") as workdir:
        configure(Path(workdir))
        images = populate()
        shoot(serve(), images)
    print("\n".join(str(path) for path in sorted(IMAGES.glob("moderation-*.png"))))


if __name__ == "__main__":
    main()
