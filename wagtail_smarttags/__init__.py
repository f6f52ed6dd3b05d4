"""Smart tags for Wagtail: learn a business vocabulary from examples and tag assets with it."""

__version__ = "0.2.0.dev0"
