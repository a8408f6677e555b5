"""A damaged queue: `kiosk run` says so on screen and keeps running, instead of crashing in a loop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_kiosk_run_with_a_damaged_queue_shows_out_of_service_until_stopped(tmp_path: Path) -> None:
    """GIVEN an outbox file of random bytes WHEN `kiosk run` starts THEN the file is set aside (not deleted),
    the log names the way out, the app stays up showing the message, and SIGTERM ends it with exit 3."""
    (tmp_path / "outbox.sqlite").write_bytes(os.urandom(8192))
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "KIOSK_KIOSK_DATA_DIR": str(tmp_path),
           "KIOSK_CARD_DRIVER": "simulated", "KIOSK_CARD_READER": "simulated", "KIOSK_PRINTER_URI": "simulated",
           "KIOSK_DISPLAY_FULLSCREEN": "false"}
    env.pop("NOTIFY_SOCKET", None)
    proc = subprocess.Popen([sys.executable, "-m", "entrypoints", "run"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = tmp_path / "logs" / "kiosk.log"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "Start application main loop" not in _read(log):
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.2)
        assert "cannot take requests" in _read(log)
        assert "kiosk queue clear-corruption" in _read(log)
        assert proc.poll() is None, "the kiosk must stay up showing why it is out of service"
        assert list(tmp_path.glob("outbox.sqlite.corrupt-*")), "the damaged file is kept for recovery"
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    assert code == 3


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""
