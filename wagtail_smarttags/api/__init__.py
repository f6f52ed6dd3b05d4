"""Smart tags in Wagtail's API: ``wagtail_smarttags.api.v2`` has endpoints for images, documents and media."""
