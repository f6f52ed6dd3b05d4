"""Machine learning for smart tags, with no Django in it.

Everything under ``wagtail_smarttags.ml`` works on plain Python objects, NumPy
arrays and PIL images so it can be tested, benchmarked and reused without a
configured Django project. The Wagtail glue (models, tasks, views) lives one
level up and stays thin around it.
"""
