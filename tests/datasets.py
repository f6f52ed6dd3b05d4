"""Small slices of the real data in ../shared/datasets, for tests.

The data never ships with the package: tests that need it skip with a clear
message on a clone without ../shared.
"""

import os
from pathlib import Path

import pytest

SHARED_DATASETS = Path(
    os.environ.get("SMARTTAGS_SHARED_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets")
)
CLOTHING = SHARED_DATASETS / "clothing"
KEYPHRASES = SHARED_DATASETS / "keyphrases"


def require(path):
    if not path.exists():
        pytest.skip(f"{path} is not present: these tests need ../shared/datasets (see README.md).")
    return path


def clothing_images(split="train", classes=None, per_class=5, offset=0):
    """``{class: [Path, ...]}``, the first ``per_class`` images of each class after ``offset``, sorted by name."""
    root = require(CLOTHING) / split
    chosen = classes or sorted(p.name for p in root.iterdir() if p.is_dir())
    return {name: sorted((root / name).glob("*.jpg"))[offset : offset + per_class] for name in chosen}
