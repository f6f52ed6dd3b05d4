"""The app's Wagtail admin: views, forms, permissions and bulk actions (hooks are in ``wagtail_hooks``)."""
