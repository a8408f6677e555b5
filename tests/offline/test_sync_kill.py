"""`kiosk sync --once` killed with SIGKILL mid-drain, again and again: the real hub ends with every request once."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from entrypoints.cli import main
from offline.outbox import Outbox
from tests.fixtures.hub_server import RunningHub

REPO = Path(__file__).resolve().parents[2]


def test_killed_syncs_lose_nothing_and_duplicate_nothing(hub_server: RunningHub, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN 400 queued requests sent in batches of 5 WHEN `kiosk sync --once` is killed with SIGKILL at random
    moments four times, then run to the end THEN the hub holds exactly 400 submissions and the kiosk counts
    400 delivered, none queued or sending."""
    data = tmp_path / "kiosk"
    env = {**os.environ, "KIOSK_KIOSK_DATA_DIR": str(data), "KIOSK_CARD_READER": "simulated",
           "KIOSK_CARD_DRIVER": "simulated", "KIOSK_PRINTER_URI": "simulated", "KIOSK_HUB_BATCH_MAX_ITEMS": "5"}
    for key, value in env.items():
        if key.startswith("KIOSK_"):
            monkeypatch.setenv(key, value)
    assert main(["enroll", "--hub", hub_server.url, "--code", hub_server.enroll_code()]) == 0
    assert main(["dev", "load", "--count", "400"]) == 0
    rng = random.Random(4)
    kills = 0
    for _ in range(4):
        child = subprocess.Popen([sys.executable, "-m", "entrypoints", "sync", "--once"], cwd=REPO, env=env,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.6, 1.2))  # start-up is ~0.5 s; then it is mid-drain
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait(30)
    assert kills >= 2, "the drain finished before most kills: make batches smaller"
    final = subprocess.run([sys.executable, "-m", "entrypoints", "sync", "--once"], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    stats = hub_server.stats()
    assert stats["submissions"] == 400
    box = Outbox(data / "outbox.sqlite", "KSK-0001", lambda: dt.datetime.now(dt.timezone.utc))
    counts = box.stats()
    assert (counts["delivered"], counts["queued"], counts["sending"]) == (400, 0, 0)
    box.close()
