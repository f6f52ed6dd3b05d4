"""Debian's Chromium, launched headless the way this machine's closed network needs (no background calls)."""

import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("SMARTTAGS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def launch(playwright):
    """A headless browser from Playwright, on the system Chromium (Playwright never downloads its own)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
