"""Printing the review page with a real browser: Debian's `chromium`, headless. The same
engine takes the screenshots the tests and the README use."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from bot.errors import BackcheckError

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
TIMEOUT = 180  # seconds; a first start of chromium on a busy machine is slow


def browser() -> str:
    """The path of a headless-capable Chromium."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise BackcheckError("chromium is not installed: it prints the review as PDF "
                         "(apt-get install chromium)")


def _run(args: list[str], out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="backcheck-chromium-") as profile:
        command = [browser(), "--headless", "--no-sandbox", "--disable-gpu",
                   "--no-first-run", "--disable-extensions", "--hide-scrollbars",
                   f"--user-data-dir={profile}", *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT,
                              check=False)
    if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        tail = done.stderr.strip().splitlines()[-3:]
        raise BackcheckError(f"chromium could not write {out}: {' / '.join(tail)}")


def print_pdf(page: Path, out: Path) -> Path:
    """Print an HTML file to PDF (A4, the page's own header and footer)."""
    out.unlink(missing_ok=True)
    _run(["--no-pdf-header-footer", f"--print-to-pdf={out}", page.resolve().as_uri()], out)
    return out


def screenshot(page: Path, out: Path, width: int = 1200, height: int = 1500) -> Path:
    """A PNG of the top of an HTML page as the browser shows it."""
    out.unlink(missing_ok=True)
    _run([f"--window-size={width},{height}", f"--screenshot={out}", page.resolve().as_uri()],
         out)
    return out
