"""Search that finds images and documents by their metadata and by their smart tags.

Configure ``wagtail_smarttags.search.backend`` as a search backend; see docs/moderation-and-search.md.
"""
