"""Admin hooks for moderating smart tags (views on image and document edit pages, bulk actions)."""
