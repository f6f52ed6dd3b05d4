"""Folders of example images given to commands: one sub-folder per tag, read as untrusted input.

A folder tree may hold links out of it, FIFOs and devices, huge files, and folder names that are
not tag names (markup, spreadsheet formulas): each is refused with a message, the rest is read.
"""

import os
import re
import stat
from pathlib import Path

from wagtail_smarttags.conf import get_setting

IMAGE_SUFFIXES = {
    ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".tif", ".tiff", ".webp",
    ".pbm", ".pgm", ".ppm", ".pnm", ".xbm", ".xpm", ".ico", ".psd",
}  # fmt: skip
# A tag name starts with a letter or digit and holds words, spaces and the punctuation of ordinary names.
TAG_NAME = re.compile(r"^\w[\w .,'&()/+-]{0,99}$")


def tag_folders(root, warn):
    """``[(tag name, folder)]`` of ``root``'s sub-folders that are inside it and named like tags."""
    root = root.resolve()
    folders = []
    for path in sorted(root.iterdir()):
        if path.name.startswith("."):
            continue
        if not path.is_dir():
            continue
        if not _inside(path, root):
            warn(f"Skipping {path}: it links outside {root}.")
        elif not TAG_NAME.match(path.name):
            warn(f"Skipping {path}: {path.name!r} is not a tag name (words, spaces and ordinary punctuation).")
        else:
            folders.append((path.name, path))
    return folders


def image_files(folder, root, warn, limit=None):
    """The regular image files of ``folder`` inside ``root`` and within ``MAX_FILE_SIZE``, sorted by name."""
    root = root.resolve()
    max_bytes = get_setting("MAX_FILE_SIZE")
    files = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        if limit is not None and len(files) >= limit:
            break
        if not _inside(path, root):
            warn(f"Skipping {path}: it links outside {root}.")
            continue
        try:
            info = path.stat()
        except OSError as error:
            warn(f"Skipping {path}: {error.strerror}.")
            continue
        if not stat.S_ISREG(info.st_mode):
            warn(f"Skipping {path}: not a regular file.")
        elif info.st_size > max_bytes:
            warn(f"Skipping {path}: {info.st_size:,} bytes, more than the {max_bytes:,} allowed (MAX_FILE_SIZE).")
        else:
            files.append(path)
    return files


def read_bounded(path):
    """The file's bytes, refusing (ValueError) more than ``MAX_FILE_SIZE`` whatever its size said."""
    max_bytes = get_setting("MAX_FILE_SIZE")
    # O_NONBLOCK: a FIFO swapped in after the check must not hang the command.
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise ValueError("not a regular file")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"more than the {max_bytes:,} bytes allowed (MAX_FILE_SIZE)")
    return data


def _inside(path, root):
    try:
        Path(os.path.realpath(path)).relative_to(root)
    except ValueError:
        return False
    return True


def library_files(root, warn):
    """Every image file under ``root``, at any depth, however its folders are named (they mean nothing)."""
    root = root.resolve()
    files = []
    for folder, subfolders, _ in os.walk(root):  # never follows links to folders
        subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
        files += image_files(Path(folder), root, warn)
    return files
