"""What the villager's phone shows after the kiosk: the tour opens the page behind each receipt's QR code.

The request must be at the hub first, so the tour syncs (once a second, a few times) until the page answers
200, then keeps its HTML and, when Chromium is installed, a phone-sized picture of it.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

log = logging.getLogger(__name__)
PHONE = (360, 740)
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--force-device-scale-factor=1")


def fetch_when_synced(url: str, sync: Callable[[], object], tries: int = 30) -> requests.Response:
    """The page at ``url``, syncing between tries while it is still 404 (not at the hub yet)."""
    answer = requests.get(url, timeout=10)
    for _ in range(tries):
        if answer.status_code != 404:
            break
        try:
            sync()
        except Exception as exc:  # noqa: BLE001 — a failed sync is reported by the page staying 404
            log.warning("sync before the status page failed: %s", exc)
        time.sleep(0.5)
        answer = requests.get(url, timeout=10)
    return answer


def phone_picture(url: str, target: Path) -> bool:
    """A 360×740 picture of ``url`` by headless Chromium; False when Chromium is not installed or fails."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return False
    with tempfile.TemporaryDirectory(prefix="tour-chromium-") as profile:
        done = subprocess.run([chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                               f"--window-size={PHONE[0]},{PHONE[1]}", f"--screenshot={target}", url],
                              capture_output=True, timeout=60, check=False)
    return done.returncode == 0 and target.is_file()


def save_status_page(url: str, out_dir: Path, stem: str, sync: Callable[[], object]) -> list[Path]:
    """Keep the page behind a QR code as ``stem.html`` (and ``stem.png``); the files written."""
    answer = fetch_when_synced(url, sync)
    html = out_dir / f"{stem}.html"
    html.write_bytes(answer.content)
    written = [html]
    if answer.status_code != 200:
        log.error("the page behind the receipt's QR answered %s: %s", answer.status_code, url)
        return written
    picture = out_dir / f"{stem}.png"
    if phone_picture(url, picture):
        written.append(picture)
    return written
