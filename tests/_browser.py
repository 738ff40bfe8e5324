"""Shared helpers of the browser tests: the system Chromium driven by Playwright for Python.

The browser is Debian's ``chromium`` package (``/usr/bin/chromium``), never one that Playwright downloads
(``playwright install`` is not used). CI installs it in ``.ci/run``; on a machine without it the browser
tests skip and say how to install it. ``COURSE_CHROMIUM=/path/to/chromium`` points at another build.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
HOW_TO_INSTALL = (
    f"Chromium not found at {CHROMIUM}: the browser tests need a system Chromium. Install it with "
    "`sudo apt-get install chromium` (Debian/Ubuntu; CI does this in .ci/run), or point COURSE_CHROMIUM at a "
    "Chromium or Chrome binary. Playwright's own browser download (`playwright install`) is not used."
)
# Headless, sandbox-free (CI runs as root) and quiet: no background calls to Google's services.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def sync_playwright():
    """Playwright's sync entry point, or a skip that says what is missing."""
    if not CHROMIUM.exists() and not shutil.which(str(CHROMIUM)):
        pytest.skip(HOW_TO_INSTALL)
    try:
        from playwright.sync_api import sync_playwright as sp
    except ImportError:
        pytest.skip("playwright is not installed: run `make test` (it installs the dev extra, which pins playwright).")
    return sp


def launch(playwright):
    """Launch the system Chromium, headless, with the flags above."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def assert_not_blank(png: Path) -> float:
    """Fail if a screenshot is (nearly) one colour; return the fraction of pixels that differ from the mode."""
    import matplotlib.image as mpimg

    img = mpimg.imread(png)[..., :3]
    flat = (img.reshape(-1, 3) * 255).astype(np.uint8)
    values, counts = np.unique(flat, axis=0, return_counts=True)
    background = values[counts.argmax()]
    busy = float(np.mean(np.any(np.abs(flat.astype(int) - background.astype(int)) > 24, axis=1)))
    assert img.std() > 0.02 and busy > 0.02, f"{png.name} looks blank (std {img.std():.3f}, {busy:.1%} non-background)"
    return busy
